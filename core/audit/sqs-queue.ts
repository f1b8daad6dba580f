import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AuditEnqueueError, backoffMs, fifoId, type RetryOptions, sleep } from "./fifo-message.ts";
import type { AuditQueue } from "./port.ts";
import type { AuditRecord } from "./types.ts";

/** SQS SendMessageBatch takes at most 10 entries per call. */
const MAX_ENTRIES = 10;
/**
 * SQS caps the summed payload of one SendMessageBatch call (and of one message) at the queue's
 * MaximumMessageSize: 262,144 bytes (256 KiB) for years, raised to 1 MiB in 2025. We budget 256 KiB per
 * call so a queue with either setting accepts it; a single larger record is sent alone and fails (as a
 * sender fault) only if the queue's own limit is smaller.
 */
const MAX_BATCH_BYTES = 262_144;

export type SqsAuditQueueOptions = RetryOptions;

interface Pending {
  entry: SendMessageBatchRequestEntry;
  eventId: string;
}

/** Splits records, in order, into calls of ≤ 10 entries and ≤ 256 KiB of bodies. */
function batches(records: AuditRecord[]): Pending[][] {
  const out: Pending[][] = [];
  let batch: Pending[] = [];
  let bytes = 0;
  for (const record of records) {
    // JSON.stringify escapes control characters and lone surrogates, so the body only holds the
    // characters SQS accepts (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
    const body = JSON.stringify(record);
    const size = Buffer.byteLength(body, "utf8");
    if (batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({
      eventId: record.eventId,
      entry: {
        // Batch entry ids: ≤ 80 alphanumerics, hyphens or underscores, unique within the call.
        Id: `e${batch.length}`,
        MessageBody: body,
        // One message group per chain: SQS FIFO keeps each chain in order, chains in parallel.
        MessageGroupId: fifoId(record.chain),
        // The event id dedupes a retried send (SQS FIFO: 5-minute deduplication interval).
        MessageDeduplicationId: fifoId(record.eventId),
      },
    });
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * The audit transport on SQS FIFO. Calls go one after another, so a chain's records are accepted in the
 * order given. Whole-call failures (network, throttling, 5xx) and per-entry failures that are not the
 * sender's fault are retried with backoff; resending accepted entries is harmless because SQS drops
 * them by deduplication id. Sender faults (a malformed entry) are not retried. When a call still has
 * failures after maxAttempts, enqueue stops there (later records would overtake them in their chain)
 * and rejects with an AuditEnqueueError naming every record not accepted.
 *
 * Known limit: if one entry of a call fails and a later entry of the same chain in that call succeeds,
 * the retried entry lands after it; each record keeps its own event time.
 */
export function createSqsAuditQueue(
  client: SQSClient,
  queueUrl: string,
  opts: SqsAuditQueueOptions = {},
): AuditQueue {
  const maxAttempts = opts.maxAttempts ?? 8;
  const deadlineMs = opts.deadlineMs ?? 10_000;

  /** Sends one call's entries until all are accepted; returns the event ids it gave up on, and why. */
  async function send(batch: Pending[]): Promise<{ failed: string[]; cause: string }> {
    let pending = batch;
    const refused: string[] = [];
    let cause = "";
    const started = Date.now();
    for (let attempt = 0; attempt < maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) {
        const delay = backoffMs(attempt - 1, opts);
        if (Date.now() - started + delay >= deadlineMs) break;
        await sleep(delay);
      }
      try {
        const out = await client.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((p) => p.entry) }),
        );
        const failures = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        const retry: Pending[] = [];
        for (const p of pending) {
          const f = failures.get(p.entry.Id);
          if (!f) continue;
          cause = `${f.Code ?? "error"}: ${f.Message ?? ""}`;
          if (f.SenderFault) refused.push(p.eventId);
          else retry.push(p);
        }
        pending = retry;
      } catch (err) {
        cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
    return { failed: [...refused, ...pending.map((p) => p.eventId)], cause };
  }

  return {
    async enqueue(records) {
      const calls = batches(records);
      for (const [i, batch] of calls.entries()) {
        const { failed, cause } = await send(batch);
        if (failed.length === 0) continue;
        const unsent = calls.slice(i + 1).flatMap((b) => b.map((p) => p.eventId));
        throw new AuditEnqueueError([...failed, ...unsent], cause);
      }
    },
  };
}
