import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { BatchResponse } from "../core/audit/fifo-message.ts";
import { type AggregateResult, type AggregatorDeps, aggregateUsage } from "../core/budgets/aggregator.ts";
import { firstIssue } from "../core/config/parse.ts";
import { eventBridgeEnvelope, sqsStandardEvent } from "../core/events/envelope.ts";
import { USAGE_DETAIL_TYPE } from "../core/events/usage.ts";
import type { Log } from "../core/log.ts";

/**
 * The cost aggregator's handler, shared by the Lambda (through the UsageQueue) and portable mode (a
 * subscriber of the local bus): validates the envelope, then counts the usage once and emits thresholds.
 * Throwing makes the transport redeliver, which the request-id idempotency makes safe. Thresholds are
 * logged here unless `logThresholds` is false: portable mode logs them where they are delivered (its
 * alert subscription), once each.
 */
export function createCostAggregatorHandler(
  deps: AggregatorDeps,
  log: Log,
  { logThresholds = true }: { logThresholds?: boolean } = {},
) {
  return async (event: unknown): Promise<AggregateResult> => {
    const parsed = eventBridgeEnvelope.safeParse(event);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      throw new Error(`Invalid EventBridge event at '${path}': ${message}`);
    }
    // A misrouted or hand-redriven event of another kind is not spend, whatever its detail holds.
    if (parsed.data["detail-type"] !== USAGE_DETAIL_TYPE)
      throw new Error(`Not a usage event: detail-type '${parsed.data["detail-type"]}'`);
    const result = await aggregateUsage(parsed.data.detail, deps);
    if (!result.counted) log.info("usage event already counted", { eventId: parsed.data.id });
    for (const t of logThresholds ? result.thresholds : []) {
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

/**
 * What one record may take at worst: its store calls and a threshold's PutEvents through an outage
 * (the publisher starts no round after 10 s, and a round of 3 SDK attempts takes up to about 10 s
 * more). A record that starts with less time left would be cut off by the Lambda timeout, taking the
 * batch's outcome with it; it is handed back to the queue instead, untried.
 */
export const RECORD_WORST_MS = 25_000;

/**
 * The Lambda's handler: `llm.usage` events reach it through the UsageQueue (stacks/events.ts), each
 * record's body the EventBridge envelope the rule's target put there. Records are counted one by one;
 * a failed one is reported (partial batch response) and comes back after the queue's visibility
 * timeout, until its redrive policy parks it in the dead-letter queue. Lambda's own retries of an
 * EventBridge invocation stop after two, after which the event is gone: the queue keeps it for days.
 */
export function createCostAggregatorQueueHandler(deps: AggregatorDeps, log: Log) {
  const aggregate = createCostAggregatorHandler(deps, log);
  return async (event: unknown, context?: Context): Promise<BatchResponse> => {
    const parsed = sqsStandardEvent.safeParse(event);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      throw new Error(`Invalid SQS event at '${path}': ${message}`);
    }
    const recordHandler = async (record: SQSRecord) => {
      if (context && context.getRemainingTimeInMillis() < RECORD_WORST_MS)
        throw new Error("not tried: too little of the invocation left; the queue hands it back");
      try {
        await aggregate(JSON.parse(record.body));
      } catch (err) {
        log.error("usage event not counted; it goes back to the queue", {
          messageId: record.messageId,
          error: err instanceof Error ? err.message : String(err),
        });
        throw err;
      }
    };
    // One record after another (Powertools runs them in parallel by default): records of one org meet
    // on its period items and threshold claims.
    const res = await processPartialResponse(
      parsed.data as unknown as SQSEvent,
      recordHandler,
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false, processInParallel: false },
    );
    return {
      batchItemFailures: res.batchItemFailures.map((f) => ({ itemIdentifier: String(f.itemIdentifier) })),
    };
  };
}
