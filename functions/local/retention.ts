import { setImmediate as turn } from "node:timers/promises";
import type { Log } from "../../core/log.ts";
import { uuidV7Floor } from "./request-id.ts";

/** A table that deletes its rows older than a cutoff, a page at a time, and says how many it deleted. */
type Prunable = { prune(before: string, limit: number): number };

export interface RetentionTargets {
  /** The local bus's outbox: events every subscription is done with. */
  events: Prunable;
  /** Budget reservation records (the counters keep every amount). */
  reservations: Prunable;
  /** The cost aggregator's processed-event markers. */
  processed: Prunable;
  /** Budget threshold claims (one per line crossed), by when they were taken. */
  claims: Prunable;
}

const HOUR_MS = 3_600_000;

/**
 * How long portable mode keeps what grows with every request. Delivered events stay a day for
 * inspection. Reservation records and processed markers only guard against a retried reservation and a
 * redelivered event, which come within seconds; two days is far past both, and past the events' own day
 * of retries, so a marker outlives any event the bus could deliver again. Threshold claims outlive
 * their period (a month at most) and its events' redeliveries, as DynamoDB's TTL keeps them: 66 days.
 * `npm run events:redrive`
 * leaves dead usage events older than that dead (functions/cli/events-redrive.ts).
 */
export const RETENTION = {
  eventsMs: 24 * HOUR_MS,
  requestIdsMs: 48 * HOUR_MS,
  claimsMs: 66 * 24 * HOUR_MS,
} as const;

/** Rows per delete: each page is one short transaction, so requests never wait long for the lock. */
const PAGE = 1000;

export interface SweepResult {
  events: number;
  reservations: number;
  processed: number;
  claims: number;
}

/** Deletes everything past retention at `now`, a page at a time, yielding to requests between pages. */
export async function sweep(t: RetentionTargets, now: number): Promise<SweepResult> {
  const drain = async (table: Prunable, cutoff: string): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = table.prune(cutoff, PAGE);
      total += n;
      if (n < PAGE) return total;
      await turn();
    }
  };
  const idCutoff = uuidV7Floor(now - RETENTION.requestIdsMs);
  return {
    events: await drain(t.events, new Date(now - RETENTION.eventsMs).toISOString()),
    reservations: await drain(t.reservations, idCutoff),
    processed: await drain(t.processed, idCutoff),
    claims: await drain(t.claims, new Date(now - RETENTION.claimsMs).toISOString()),
  };
}

/** Sweeps at start and then every `everyMs`; a failed sweep is logged and tried again next time. */
export function startRetention(
  t: RetentionTargets,
  log: Log,
  everyMs = 10 * 60_000,
  now: () => number = Date.now,
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = sweep(t, now())
      .then((r) => {
        if (r.events + r.reservations + r.processed + r.claims > 0) log.info("retention sweep", { ...r });
      })
      .catch((err: unknown) => log.error("retention sweep failed", { error: String(err) }));
  };
  run();
  // unref: the sweep must not keep a stopping process alive.
  const timer = setInterval(run, everyMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
