import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { type Log, silentLog } from "../log.ts";
import { until } from "../until.ts";
import {
  AuditEnqueueError,
  backoffMs,
  fifoId,
  type RetryOptions,
  type SqsFifoEvent,
  type SqsFifoHandler,
  sleep,
} from "./fifo-message.ts";
import type { AuditQueue } from "./port.ts";
import { openQueueTables, type QueueRow } from "./sqlite-queue-tables.ts";
import type { AuditRecord } from "./types.ts";

/**
 * The portable audit transport with SQS FIFO semantics over SQLite: messages are kept in send order per
 * group (chain); a dedup id is accepted once (forever, where SQS remembers it 5 minutes); a consumer
 * loop hands one group's first ≤ 10 messages at a time to a handler shaped like a Lambda SQS handler,
 * with one batch in flight per group (the FIFO group lock) and groups served in parallel. A partial
 * batch response acknowledges the records before the first failure; that record and every later one of
 * the group stay queued and come back in order after a backoff. After maxReceiveCount failed deliveries
 * a group's head message moves to `audit_queue_dead` (the dead-letter queue) so the chain goes on.
 * Durable: everything not acknowledged is delivered again after a restart (at least once; the writer
 * dedupes). One consumer per database file: the group lock lives in this process.
 */
export interface SqliteAuditQueueOptions {
  log?: Log;
  /** Messages per batch, ≤ 10 as for SQS FIFO → Lambda (default 10). */
  batchSize?: number;
  /** First redelivery delay of a failed group; doubles per failure up to maxRetryDelayMs. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Failed deliveries of one message before it is dead-lettered (the stacks use 5). */
  maxReceiveCount?: number;
  /** How often to look for messages another process enqueued (default 1000 ms). */
  pollMs?: number;
  /** Groups delivered at the same time (default 4). */
  concurrency?: number;
  /** Enqueue retries when the database is busy. */
  enqueueRetry?: RetryOptions;
}

export interface SqliteAuditQueue extends AuditQueue {
  /**
   * Appends at once, in the caller's open transaction when there is one (a store write's `within`): the
   * record commits with the write or not at all. Throws where `enqueue` would retry; delivery begins
   * with the next `enqueue` or poll.
   */
  appendNow(records: AuditRecord[]): void;
  start(handler: SqsFifoHandler): void;
  /** Stops delivering; waits for in-flight batches (whose outcome is still recorded). */
  stop(): Promise<void>;
  /** Resolves true once nothing is queued or in flight, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean>;
  deadLetters(): {
    messageId: string;
    groupId: string;
    body: string;
    failures: number;
    error: string | null;
  }[];
}

/** The queue's rows for records: FIFO per chain, deduplicated by event id (fifo-message.ts). */
const messagesOf = (records: AuditRecord[]) =>
  records.map((r) => ({
    messageId: randomUUID(),
    groupId: fifoId(r.chain),
    dedupId: fifoId(r.eventId),
    body: JSON.stringify(r),
  }));

export function createSqliteAuditQueue(
  db: DatabaseSync,
  opts: SqliteAuditQueueOptions = {},
): SqliteAuditQueue {
  const log = opts.log ?? silentLog;
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
  const retryBaseMs = opts.retryBaseMs ?? 1_000;
  const maxRetryDelayMs = opts.maxRetryDelayMs ?? 60_000;
  const maxReceiveCount = opts.maxReceiveCount ?? 5;
  const concurrency = opts.concurrency ?? 4;
  const tables = openQueueTables(db);
  const inFlight = new Map<string, Promise<void>>();
  let handler: SqsFifoHandler | undefined;
  let stopped = true;
  let retryTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;

  const delayFor = (attempts: number) => Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (attempts - 1));

  const event = (rows: QueueRow[]): SqsFifoEvent => ({
    Records: rows.map((r) => ({
      messageId: r.message_id,
      body: r.body,
      attributes: {
        MessageGroupId: r.group_id,
        MessageDeduplicationId: r.dedup_id,
        SequenceNumber: String(r.seq).padStart(20, "0"),
        ApproximateReceiveCount: String(r.receive_count),
      },
    })),
  });

  /** One batch of one group; records its outcome. */
  async function deliver(group: string, run: SqsFifoHandler): Promise<void> {
    const rows = tables.receive(group, batchSize);
    if (rows.length === 0) return;
    let failedAt = rows.length;
    let error: string | null = null;
    try {
      const res = await run(event(rows));
      const ids = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      if (ids.size > 0) {
        // Like Lambda: an itemIdentifier that is not in the batch fails the whole batch.
        const idx = rows.findIndex((r) => ids.has(r.message_id));
        const known = rows.filter((r) => ids.has(r.message_id)).length === ids.size;
        failedAt = known ? idx : 0;
        error = "reported in batchItemFailures";
      }
    } catch (err) {
      failedAt = 0;
      error = err instanceof Error ? err.message : String(err);
    }
    const now = Date.now();
    const done = rows[failedAt - 1];
    if (done) tables.ack(group, done.seq);
    const head = rows[failedAt];
    if (!head) return;
    const failures = tables.fail(group, head, delayFor, now);
    const fields = { group, messageId: head.message_id, failures, error };
    if (failures >= maxReceiveCount) {
      tables.bury(group, head.seq, now, error);
      log.error("audit message dead-lettered after maxReceiveCount failures", fields);
    } else log.warn("audit batch failed; the group will be redelivered", fields);
  }

  function pump(): void {
    if (stopped || !handler) return;
    const run = handler;
    const now = Date.now();
    try {
      for (const group of tables.readyGroups(now)) {
        if (inFlight.size >= concurrency) break;
        if (inFlight.has(group)) continue;
        const task = deliver(group, run)
          .catch((err: unknown) => log.error("audit queue delivery failed", { group, error: String(err) }))
          .finally(() => {
            inFlight.delete(group);
            pump();
          });
        inFlight.set(group, task);
      }
      const at = tables.nextRetryAt(now);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = at === null ? undefined : setTimeout(pump, at - now).unref();
    } catch (err) {
      log.error("audit queue loop failed; polling again", { error: String(err) });
    }
  }

  return {
    appendNow(records) {
      tables.append(messagesOf(records));
    },
    async enqueue(records) {
      const messages = messagesOf(records);
      const maxAttempts = opts.enqueueRetry?.maxAttempts ?? 8;
      for (let attempt = 0; ; attempt++) {
        try {
          tables.append(messages);
          break;
        } catch (err) {
          const eventIds = records.map((r) => r.eventId);
          if (attempt + 1 >= maxAttempts) throw new AuditEnqueueError(eventIds, String(err));
          await sleep(backoffMs(attempt, opts.enqueueRetry));
        }
      }
      pump();
    },
    start(h) {
      handler = h;
      stopped = false;
      clearInterval(pollTimer);
      pollTimer = setInterval(pump, opts.pollMs ?? 1_000).unref();
      pump();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pollTimer);
      await Promise.all(inFlight.values());
    },
    drain: (timeoutMs) => until(() => inFlight.size === 0 && tables.size() === 0, timeoutMs, 5),
    deadLetters: () =>
      tables.dead().map((d) => ({
        messageId: d.message_id,
        groupId: d.group_id,
        body: d.body,
        failures: d.failures,
        error: d.last_error,
      })),
  };
}
