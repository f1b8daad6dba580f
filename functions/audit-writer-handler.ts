import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context } from "aws-lambda";
import type { BatchResponse, SqsFifoRecord } from "../core/audit/fifo-message.ts";
import { type WriterDeps, writeAuditMessage } from "../core/audit/writer.ts";
import { firstIssue } from "../core/config/parse.ts";
import { sqsEvent } from "../core/events/envelope.ts";
import type { Log } from "../core/log.ts";

/**
 * The audit writer's handler, shared by the Lambda (SQS FIFO event source, partial batch responses) and
 * portable mode (the SQLite audit queue's consumer): the same per-record step as processAuditBatch
 * (core/audit/writer.ts), driven by Powertools' SqsFifoPartialProcessorAsync, which processes records
 * in order and, at the first failure, stops and reports that record and every later one as failed
 * (no skipGroupOnError: a batch is stopped whole, as processAuditBatch does).
 *
 * A processor keeps per-batch state, so each invocation gets its own: Lambda runs one batch per
 * container at a time, but the portable queue delivers several chains at once through one handler.
 * `throwOnFullBatchFailure: false`: a batch that failed whole is reported record by record instead of
 * thrown; SQS treats both the same (every record stays), and both transports read the one shape.
 */
export function createAuditWriterHandler(deps: WriterDeps & { log: Log }) {
  const { log } = deps;
  return async (event: unknown, context?: Context): Promise<BatchResponse> => {
    const parsed = sqsEvent.safeParse(event);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      log.error("invalid SQS event", { path, message });
      throw new Error(`Invalid SQS event at '${path}': ${message}`);
    }
    const recordHandler = async (record: SqsFifoRecord) => {
      try {
        const { entry, written } = await writeAuditMessage(record, deps);
        if (!written)
          log.info("audit record already written (redelivery)", { chain: entry.chain, seq: entry.seq });
      } catch (err) {
        log.error("audit record not written; it and the rest of the batch go back to the queue", {
          messageId: record.messageId,
          group: record.attributes.MessageGroupId,
          error: err instanceof Error ? err.message : String(err),
        });
        throw err;
      }
    };
    const res = await processPartialResponse(
      parsed.data as Parameters<typeof processPartialResponse>[0],
      recordHandler,
      new SqsFifoPartialProcessorAsync(),
      { context, throwOnFullBatchFailure: false },
    );
    return {
      batchItemFailures: res.batchItemFailures.map((f) => ({ itemIdentifier: String(f.itemIdentifier) })),
    };
  };
}
