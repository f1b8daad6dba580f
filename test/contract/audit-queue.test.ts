import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import type { SqsFifoRecord } from "../../core/audit/fifo-message.ts";
import { createSqliteAuditQueue } from "../../core/audit/sqlite-queue.ts";
import { createSqsAuditQueue } from "../../core/audit/sqs-queue.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { type SqsEmulator, startSqsEmulator } from "../emulators/sqs.ts";
import { startSqsLambdaPoller } from "../emulators/sqs-lambda-poller.ts";
import { auditQueueContract } from "./audit-queue.contract.ts";

let emu: SqsEmulator;
let sqs: SQSClient;
let fragileSqs: SQSClient;
beforeAll(async () => {
  emu = await startSqsEmulator();
  sqs = emu.client();
  // One SDK attempt with short timeouts: the adapter's own retries are what is under test.
  fragileSqs = emu.client({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 200, requestTimeout: 1_000 },
  });
});
afterAll(async () => {
  sqs?.destroy();
  fragileSqs?.destroy();
  await emu?.stop();
});

let queues = 0;
auditQueueContract("SQS FIFO (fauxqs, compensated)", async () => {
  // Visibility timeout 1 s: a failed batch comes back quickly.
  const url = await emu.createFifoQueue(`audit-${++queues}`, 1);
  const pollers: { stop(): Promise<void> }[] = [];
  return {
    queue: createSqsAuditQueue(fragileSqs, url, { baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 20 }),
    fragileQueue: createSqsAuditQueue(fragileSqs, url, { baseDelayMs: 10, maxAttempts: 2 }),
    consume(handler) {
      const poller = startSqsLambdaPoller(sqs, url, (event) =>
        handler({
          Records: event.Records.map(
            (r): SqsFifoRecord => ({
              messageId: r.messageId,
              body: r.body,
              attributes: {
                MessageGroupId: r.attributes.MessageGroupId ?? "",
                MessageDeduplicationId: r.attributes.MessageDeduplicationId ?? "",
                SequenceNumber: r.attributes.SequenceNumber,
              },
            }),
          ),
        }),
      );
      pollers.push(poller);
      return poller;
    },
    async outage() {
      await emu.stop();
      return () => emu.restart();
    },
    async close() {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), "audit-queue-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
auditQueueContract("SQLite", async () => {
  const path = join(dir, `queue-${++files}.sqlite`);
  const db = openDatabase(path);
  // Fail fast on a locked database: the adapter's retries are what is under test.
  db.exec("PRAGMA busy_timeout = 20");
  const queue = createSqliteAuditQueue(db, {
    retryBaseMs: 50,
    pollMs: 50,
    enqueueRetry: { baseDelayMs: 50, maxAttempts: 20 },
  });
  const fragileQueue = createSqliteAuditQueue(db, { enqueueRetry: { baseDelayMs: 10, maxAttempts: 2 } });
  const blockers: DatabaseSync[] = [];
  return {
    queue,
    fragileQueue,
    consume(handler) {
      queue.start(handler);
      return queue;
    },
    async outage() {
      // Another connection holding the write lock: every write of the queue fails with SQLITE_BUSY.
      const blocker = openDatabase(path);
      blockers.push(blocker);
      blocker.exec("BEGIN IMMEDIATE");
      return async () => blocker.exec("COMMIT");
    },
    async close() {
      await queue.stop();
      for (const b of blockers) b.close();
      db.close();
    },
  };
});
