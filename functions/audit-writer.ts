import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSBatchResponse } from "aws-lambda";
import { firstIssue } from "../core/config/parse.ts";
import { sqsEvent } from "../core/events/envelope.ts";

/**
 * Audit writer (`functions/audit-writer.handler`), subscribed to the audit FIFO queue with partial
 * batch responses. Declared now with its queue, table and key; the hash chain arrives with issue #6.
 * Until then every record is reported as failed, so SQS keeps it (and after maxReceiveCount moves it to
 * the DLQ): an audit record is never acknowledged without being written.
 */
const logger = new Logger({ serviceName: "llm-gateway-audit-writer" });

export async function handler(event: unknown): Promise<SQSBatchResponse> {
  const parsed = sqsEvent.safeParse(event);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    logger.error("invalid event", { path, message });
    throw new Error(`Invalid SQS event at '${path}': ${message}`);
  }
  logger.error("audit writer not implemented yet (issue #6); returning every record to the queue", {
    records: parsed.data.Records.length,
  });
  return { batchItemFailures: parsed.data.Records.map((r) => ({ itemIdentifier: r.messageId })) };
}
