import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoAuditStore } from "../../core/audit/dynamo-store.ts";
import { fifoId } from "../../core/audit/fifo-message.ts";
import type { AuditStore } from "../../core/audit/port.ts";
import { auditRecord } from "../../core/audit/records.ts";
import { createSqsAuditQueue } from "../../core/audit/sqs-queue.ts";
import type { AuditRecord } from "../../core/audit/types.ts";
import { verifyChain } from "../../core/audit/verify.ts";
import { silentLog } from "../../core/log.ts";
import { createAuditWriterHandler } from "../../functions/audit-writer-handler.ts";
import { auditMessage, auditRecs, chainEventIds, testSigner } from "../contract/audit-fixtures.ts";
import {
  createTables,
  type DynamoDbLocal,
  startDynamoDbLocal,
  withInjectedTransactionConflicts,
} from "../emulators/dynamodb-local.ts";
import { type KmsEmulator, startKmsEmulator } from "../emulators/kms.ts";
import { type SqsEmulator, startSqsEmulator } from "../emulators/sqs.ts";
import { startSqsLambdaPoller } from "../emulators/sqs-lambda-poller.ts";

/**
 * The audit-writer Lambda module end to end: SQS FIFO (emulator) → a Lambda-like poller → the handler
 * wired by functions/audit-writer.ts (DynamoDB Local AuditTable, KMS-emulator signing key).
 */
const TABLE = "audit-writer-e2e";
let ddb: DynamoDbLocal;
let kms: KmsEmulator;
let sqsEmu: SqsEmulator;
let sqs: SQSClient;
let doc: DynamoDBDocumentClient;
let store: AuditStore;
let keyArn: string;
let handler: (event: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

beforeAll(async () => {
  [ddb, kms, sqsEmu] = await Promise.all([startDynamoDbLocal(), startKmsEmulator(), startSqsEmulator()]);
  const admin = ddb.client();
  await createTables(admin, [TABLE]);
  admin.destroy();
  doc = ddb.documentClient();
  store = createDynamoAuditStore(doc, TABLE);
  sqs = sqsEmu.client();
  keyArn = kms.createKey("audit").arn;
  // What SST links into the writer, pointed at the emulators.
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    SST_RESOURCE_AuditTable: JSON.stringify({ name: TABLE }),
    SST_RESOURCE_AuditSigningKey: JSON.stringify({ arn: keyArn, alias: "alias/audit" }),
    POWERTOOLS_LOG_LEVEL: "SILENT",
  });
  handler = (await import("../../functions/audit-writer.ts")).handler;
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  doc?.destroy();
  await Promise.all([ddb?.dispose(), kms?.stop(), sqsEmu?.stop()]);
});

const ids = (records: AuditRecord[]) => records.map((r) => r.eventId);
let queues = 0;

describe("the audit-writer Lambda", () => {
  it("refuses a malformed SQS event", async () => {
    await expect(handler({ Records: [{ body: "{}" }] })).rejects.toThrow(/Records\[0\]\.messageId/);
  });

  it("writes FIFO batches from SQS into linear, KMS-checkpointed chains, ignoring a late redelivery", async () => {
    const url = await sqsEmu.createFifoQueue(`audit-e2e-${++queues}`, 2);
    const [a, s] = [auditRecs("org-e2e", 25), auditRecs("system-e2e", 12)];
    await createSqsAuditQueue(sqs, url).enqueue(a.flatMap((r, i) => (s[i] ? [r, s[i]] : [r])));
    const poller = startSqsLambdaPoller(sqs, url, handler, { concurrency: 2 });
    try {
      expect(await poller.drain(30_000)).toBe(true);
      // After SQS's 5-minute dedup window a producer retry is a new message: the writer still dedupes.
      const late = a[3]!;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: JSON.stringify(late),
          MessageGroupId: fifoId(late.chain),
          MessageDeduplicationId: `${late.eventId}-after-window`,
        }),
      );
      expect(await poller.drain(10_000)).toBe(true);
    } finally {
      await poller.stop();
    }
    expect(poller.batches.some((b) => b.length === 10 && b.every((m) => m.group === "org-e2e"))).toBe(true);
    expect(await chainEventIds(store, "org-e2e")).toEqual(ids(a));
    expect(await chainEventIds(store, "system-e2e")).toEqual(ids(s));
    const checkpoints = await store.checkpoints("org-e2e");
    expect(checkpoints[0]).toMatchObject({ seq: 1, keyId: keyArn });
    const pem = await (await import("../../core/audit/kms-signer.ts"))
      .createKmsSigner(kms.client(), keyArn)
      .publicKeyPem();
    const verified = verifyChain({
      entries: await store.entries("org-e2e", 1, 25),
      checkpoints,
      publicKeyPem: pem,
    });
    expect(verified).toMatchObject({ ok: true, entries: 25, lastSignedSeq: 1 });
  }, 60_000);

  it("after a crash half-way, SQS redelivers the rest and the chain holds 1..10 once, in order", async () => {
    const url = await sqsEmu.createFifoQueue(`audit-crash-${++queues}`, 1);
    const records = auditRecs("org-crash", 10);
    let appends = 0;
    const crashing: AuditStore = {
      ...store,
      async append(e) {
        if (++appends === 6) throw new Error("connection reset");
        return store.append(e);
      },
    };
    const writer = createAuditWriterHandler({
      store: crashing,
      signer: await testSigner(),
      now: Date.now,
      log: silentLog,
    });
    await createSqsAuditQueue(sqs, url).enqueue(records);
    const poller = startSqsLambdaPoller(sqs, url, writer);
    try {
      expect(await poller.drain(20_000)).toBe(true);
    } finally {
      await poller.stop();
    }
    expect(poller.batches.map((b) => b.length)).toEqual([10, 5]);
    expect(await chainEventIds(store, "org-crash")).toEqual(ids(records));
  }, 30_000);

  it("writes a sensitive org's request of several hundred KB, cut to fit SQS and DynamoDB, into its chain", async () => {
    const url = await sqsEmu.createFifoQueue(`audit-big-${++queues}`, 1);
    const prompt = "a long prompt ".repeat(34_000);
    const big = auditRecord("big-1:request", "org-big", "request", Date.now(), "k1", {
      request: { model: "m", messages: [{ role: "user", content: prompt }] },
      status: 200,
    });
    const small = auditRecs("org-big", 1, 2);
    await createSqsAuditQueue(sqs, url).enqueue([big, ...small]);
    const poller = startSqsLambdaPoller(sqs, url, handler);
    try {
      expect(await poller.drain(20_000)).toBe(true);
    } finally {
      await poller.stop();
    }
    expect(await chainEventIds(store, "org-big")).toEqual(["big-1:request", ...ids(small)]);
    const [entry] = await store.entries("org-big", 1, 1);
    expect(entry?.record.data).toMatchObject({ request: { cut: true }, status: 200 });
  }, 30_000);

  it("keeps one linear chain when two containers race on the same and interleaved records", async () => {
    // The second container's DynamoDB answers every other transaction with TransactionConflict, which
    // real DynamoDB returns for concurrent transactions on one item and DynamoDB Local never does.
    const { doc: peerDoc, transactions } = withInjectedTransactionConflicts(ddb.client());
    const signer = await testSigner();
    const peer = createAuditWriterHandler({
      store: createDynamoAuditStore(peerDoc, TABLE),
      signer,
      now: Date.now,
      log: silentLog,
      maxAppendAttempts: 20,
    });
    try {
      const first = auditRecs("org-race", 10).map((r) => auditMessage(r));
      const both = await Promise.all([handler({ Records: first }), peer({ Records: first })]);
      expect(both.flatMap((r) => r.batchItemFailures)).toEqual([]);
      const more = auditRecs("org-race", 10, 11).map((r) => auditMessage(r));
      const halves = await Promise.all([
        handler({ Records: more.filter((_, i) => i % 2 === 0) }),
        peer({ Records: more.filter((_, i) => i % 2 === 1) }),
      ]);
      expect(halves.flatMap((r) => r.batchItemFailures)).toEqual([]);
    } finally {
      peerDoc.destroy();
    }
    const chain = await chainEventIds(store, "org-race");
    expect(chain.slice(0, 10)).toEqual(ids(auditRecs("org-race", 10)));
    expect([...chain.slice(10)].sort()).toEqual(ids(auditRecs("org-race", 10, 11)).sort());
    expect(transactions()).toBeGreaterThan(0);
  }, 60_000);
});
