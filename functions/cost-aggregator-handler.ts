import { type AggregateResult, type AggregatorDeps, aggregateUsage } from "../core/budgets/aggregator.ts";
import { firstIssue } from "../core/config/parse.ts";
import { eventBridgeEnvelope } from "../core/events/envelope.ts";
import type { Log } from "../core/log.ts";

/**
 * The cost aggregator's handler, shared by the Lambda (EventBridge target) and portable mode (a
 * subscriber of the local bus): validates the envelope, then counts the usage once and emits thresholds.
 * Throwing makes the transport redeliver, which the request-id idempotency makes safe.
 */
export function createCostAggregatorHandler(deps: AggregatorDeps, log: Log) {
  return async (event: unknown): Promise<AggregateResult> => {
    const parsed = eventBridgeEnvelope.safeParse(event);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      throw new Error(`Invalid EventBridge event at '${path}': ${message}`);
    }
    const result = await aggregateUsage(parsed.data.detail, deps);
    if (!result.counted) log.info("usage event already counted", { eventId: parsed.data.id });
    for (const t of result.thresholds) {
      log.warn("budget threshold emitted", {
        scope: t.scope,
        id: t.id,
        periodKey: t.periodKey,
        threshold: t.threshold,
      });
    }
    return result;
  };
}
