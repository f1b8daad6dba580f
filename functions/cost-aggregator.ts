import { Logger } from "@aws-lambda-powertools/logger";
import { firstIssue } from "../core/config/parse.ts";
import { eventBridgeEnvelope } from "../core/events/envelope.ts";

/**
 * Cost aggregator (`functions/cost-aggregator.handler`), the EventBridge target for `llm.usage` events.
 * Declared now with the resources it needs; its rollups and budget thresholds arrive with issue #5.
 * Until then it validates its input and fails loudly, so EventBridge retries and nothing is counted
 * by accident.
 */
const logger = new Logger({ serviceName: "llm-gateway-cost-aggregator" });

export const NOT_YET = "The cost aggregator is not implemented yet (issue #5); the event was not counted.";

export async function handler(event: unknown): Promise<never> {
  const parsed = eventBridgeEnvelope.safeParse(event);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    logger.error("invalid event", { path, message });
    throw new Error(`Invalid EventBridge event at '${path}': ${message}`);
  }
  logger.error("not implemented", { eventId: parsed.data.id, detailType: parsed.data["detail-type"] });
  throw new Error(NOT_YET);
}
