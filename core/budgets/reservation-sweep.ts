import type { GatewayEvent } from "../events/port.ts";
import type { Log } from "../log.ts";
import type { OpenReservations } from "./dynamo-open-reservations.ts";
import { type InterruptedRequest, interruptedRequests, interruptedUsage } from "./interrupted.ts";

/**
 * How old an open reservation must be before the sweep gives its request up. The router Lambda runs at
 * most 15 minutes (Lambda's 900 s maximum, stacks/api.ts) and settles before its invocation ends, so a
 * reservation older than that was left by an invocation that died (out of memory, a runtime crash, the
 * timeout itself); five minutes more cover clock skew between the router and the sweep.
 */
export const ORPHANED_AFTER_MS = 20 * 60_000;

/**
 * Requests charged per sweep: a run's events fit its 1-minute timeout (PutEvents takes 10 a call); a
 * larger backlog (a region's routers all dying at once) goes in the runs after.
 */
export const MAX_PER_SWEEP = 500;

export interface SweepDeps {
  open: OpenReservations;
  publish: (events: GatewayEvent[]) => Promise<void>;
  region: string;
  now: () => number;
  log: Log;
  /**
   * Gets the requests to charge before their events are published (the audit records of a sensitive
   * org's): a run that fails there publishes nothing, and the next run hands them over again.
   */
  beforeCharging?: (requests: InterruptedRequest[]) => Promise<void>;
}

/**
 * The AWS counterpart of portable mode's charge at start (functions/local/spend.ts): a router invocation
 * that dies mid-request leaves its reservation on its counters, where it would hold the budget for the
 * rest of the period while no report counts it. Each run charges this region's orphaned reservations at
 * what they reserved (interrupted.ts), as `llm.usage` events onto the bus; the cost aggregator counts each
 * once and its settlements close the reservations. A run that fails, or finds them still open because the
 * aggregator has not caught up, publishes them again: counted once all the same.
 */
export async function sweepOrphanedReservations(deps: SweepDeps): Promise<{ charged: number }> {
  const open = await deps.open.before(deps.now() - ORPHANED_AFTER_MS, MAX_PER_SWEEP, (id) =>
    deps.log.error("open reservation unreadable, left as it is", { id }),
  );
  const events = interruptedUsage(open, deps.region);
  if (events.length > 0) {
    await deps.beforeCharging?.(interruptedRequests(events));
    await deps.publish(events);
  }
  const charged = events.length;
  if (charged > 0)
    deps.log.warn("reservations left open by router invocations that died: charged at their reservations", {
      requests: charged,
    });
  return { charged };
}
