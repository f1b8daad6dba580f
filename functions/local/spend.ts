import type { DatabaseSync } from "node:sqlite";
import { type AggregatorDeps, aggregateUsageBatch } from "../../core/budgets/aggregator.ts";
import { counterFor, keyCounterId } from "../../core/budgets/counters.ts";
import {
  type InterruptedRequest,
  interruptedRequests,
  interruptedUsage,
} from "../../core/budgets/interrupted.ts";
import { limitNanos, nanos, usdOf } from "../../core/budgets/money.ts";
import { createSqliteSpendStore } from "../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../core/budgets/sqlite-store.ts";
import type { Subscription } from "../../core/events/port.ts";
import { createSqliteBus } from "../../core/events/sqlite-bus.ts";
import { openOutbox } from "../../core/events/sqlite-outbox.ts";
import { USAGE_DETAIL_TYPE } from "../../core/events/usage.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import type { Log } from "../../core/log.ts";
import { createSqliteRateLimitStore } from "../../core/ratelimit/sqlite-store.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { createCostAggregatorHandler } from "../cost-aggregator-handler.ts";
import { alertSubscriptions } from "./alerts.ts";
import type { BudgetReading } from "./prometheus.ts";

/**
 * What a start charged a request the last process never finished (interrupted.ts), for `/metrics` and
 * the audit trail; not one whose own usage event was written, which that event charges.
 */
export type InterruptedCharge = InterruptedRequest;

const COST_AGGREGATOR = "cost-aggregator";
/** How long a counter's first reservation waits for the aggregator to count what came before it. */
const SEED_CATCH_UP_MS = 1_000;

/**
 * Portable mode's spend machinery, the counterpart of the events stack: SQLite budget counters, rate
 * limits and rollups, and the local bus that delivers `llm.usage` to the same cost-aggregator handler the
 * Lambda runs and `budget.threshold` to the log and an optional webhook.
 */
export function createPortableSpend(
  db: DatabaseSync,
  registry: RegistryStore,
  keys: KeyStore,
  log: Log,
  webhookUrl: string | undefined,
) {
  const spend = createSqliteSpendStore(db);
  // A budget's first reservation in a period starts from the aggregator's total for it, once the
  // aggregator has counted what was published before: a request that ended just before an admin added
  // the budget is not missed. Waits only for the first reservation of each counter, and at most
  // SEED_CATCH_UP_MS (a bus held up by a failing delivery then seeds from what was counted).
  const budgets = createSqliteBudgetStore(db, "local", async (c) => {
    await bus.caughtUp(COST_AGGREGATOR, SEED_CATCH_UP_MS);
    return spend.periodSpend(c.scope, c.id, c.periodKey);
  });
  const rateLimits = createSqliteRateLimitStore(db);
  const aggregatorDeps: AggregatorDeps = {
    spend,
    // Thresholds go back onto this same bus, as the Lambda puts them back onto EventBridge. The bus
    // delivers an id once, so the aggregator publishes an alert before claiming it (aggregator.ts).
    events: { publish: (events) => bus.publish(events), dedupesIds: true },
    // The events' settlements made again, as on AWS: a router whose own settle failed while its usage
    // event was written (the settle's own statement failing) leaves the reservation to this.
    // Idempotent, and a single read for one already settled (sqlite-store.ts).
    budgets,
    orgBudgets: async (org) => (await registry.get("org", org))?.doc.budgets ?? [],
    keyBudgets: async (org, id) => {
      const key = await keys.get(id);
      return key?.org === org ? (key.budgets ?? []) : [];
    },
  };
  const aggregate = createCostAggregatorHandler(aggregatorDeps, log, { logThresholds: false });
  const costAggregator: Subscription = {
    name: COST_AGGREGATOR,
    pattern: { source: ["llm-gateway"], "detail-type": [USAGE_DETAIL_TYPE] },
    handle: async (envelope) => void (await aggregate(envelope)),
    // The same counting, a delivery round at a time: one SQLite commit for all its events.
    // Its thresholds, like `handle`'s, are logged by the alert subscription that receives them ("budget
    // threshold crossed"), once each: the log is one of portable mode's alert targets.
    handleBatch: async (envelopes) => {
      await aggregateUsageBatch(
        envelopes.map((e) => e.detail),
        aggregatorDeps,
      );
    },
  };
  const bus = createSqliteBus(db, {
    subscriptions: [costAggregator, ...alertSubscriptions(log, webhookUrl)],
    region: "local",
    account: "000000000000",
    log,
  });

  /** Every org and key budget's remaining amount in its current period, for the Prometheus gauge. */
  async function budgetReadings(): Promise<BudgetReading[]> {
    const now = Date.now();
    const out: BudgetReading[] = [];
    const owners = [
      ...(await registry.list("org")).map((o) => ({
        scope: "org" as const,
        id: o.id,
        budgets: o.doc.budgets ?? [],
      })),
      ...(await keys.list()).map((k) => ({
        scope: "key" as const,
        id: keyCounterId(k.org, k.id),
        budgets: k.budgets ?? [],
      })),
    ];
    for (const { scope, id, budgets: list } of owners) {
      for (const b of list) {
        const counter = counterFor(scope, id, b, now);
        // A counter not used yet this period holds nothing until its first reservation seeds it with
        // the period's spend (CounterSeed): until then, that spend is what the budget has used.
        const spent = Math.max(
          nanos(await budgets.spent(counter)),
          nanos(await spend.periodSpend(scope, id, counter.periodKey)),
        );
        // In nano-dollars, as the counter adds: a float subtraction reads $0.00004820000000000518.
        const remaining = Math.max(0, limitNanos(b.limitUsd) - spent);
        out.push({ scope, id, period: b.period, remainingUsd: usdOf(remaining) });
      }
    }
    return out;
  }

  /**
   * At start-up, before any request: reservations left unsettled are those of requests the last
   * process never finished (a hard kill; one process per data directory). Their usage events go on the
   * bus, to be counted at their reservations and settled there (interrupted.ts). `beforeCharging` gets
   * the requests to charge before their events are written (an error from it stops the start).
   */
  async function chargeInterrupted(
    beforeCharging: (charges: InterruptedCharge[]) => Promise<void> = async () => undefined,
  ): Promise<InterruptedCharge[]> {
    const unsettled = budgets.unsettled((id) =>
      log.error("unsettled reservation unreadable, left as it is", { id }),
    );
    // Requests whose own usage event was written: the bus keeps that one, which charges them.
    const outbox = openOutbox(db);
    const written = new Set(unsettled.map((r) => r.reservedFor.requestId).filter((id) => outbox.holds(id)));
    const events = interruptedUsage(unsettled, "local");
    if (events.length === 0) return [];
    const charges = interruptedRequests(events.filter((e) => !written.has(e.id)));
    // Before the events: once they are written, the next start would take these requests for ones
    // whose own usage event was (`written`), and a kill in between would leave the hook's work undone.
    await beforeCharging(charges);
    await bus.publish(events);
    // Found, not necessarily charged: a request whose own usage event was written is settled by it.
    log.warn(
      "reservations left unsettled by the last stop: charged at their reservations unless their own usage event settles them",
      { requests: events.length },
    );
    return charges;
  }

  return { budgets, rateLimits, spend, bus, budgetReadings, chargeInterrupted };
}
