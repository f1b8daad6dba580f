import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { SqsFifoRecord } from "../../../core/audit/fifo-message.ts";
import type { AuditStore, Signer } from "../../../core/audit/port.ts";
import { createSqliteAuditStore } from "../../../core/audit/sqlite-store.ts";
import type { AuditRecord } from "../../../core/audit/types.ts";
import { processAuditBatch, type WriterDeps } from "../../../core/audit/writer.ts";
import { ConflictError } from "../../../core/storage/errors.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import {
  auditMessage,
  auditRec,
  auditRecs,
  chainEventIds,
  testSigner,
} from "../../contract/audit-fixtures.ts";

/** The redelivery matrix of the audit writer: whatever SQS redelivers or races, one linear chain. */
let signer: Signer;
let store: AuditStore;
let path: string;
const dir = mkdtempSync(join(tmpdir(), "audit-writer-"));
let files = 0;

beforeEach(async () => {
  signer ??= await testSigner();
  path = join(dir, `audit-${++files}.sqlite`);
  store = createSqliteAuditStore(openDatabase(path));
});

const deps = (s: AuditStore = store, extra: Partial<WriterDeps> = {}): WriterDeps => ({
  store: s,
  signer,
  now: () => Date.UTC(2026, 10, 26, 12),
  ...extra,
});
const ids = (records: AuditRecord[]) => records.map((r) => r.eventId);
const failedIds = (res: { batchItemFailures: { itemIdentifier: string }[] }) =>
  res.batchItemFailures.map((f) => f.itemIdentifier);

/** Conflicts the racing writers ran into (proof that they really raced). */
let conflicts = 0;
/** A store over its own connection whose calls yield first, so concurrent writers really interleave. */
function jittery(base: AuditStore): AuditStore {
  const pause = () => new Promise((r) => setTimeout(r, Math.random() * 3));
  return {
    head: async (c) => {
      await pause();
      return base.head(c);
    },
    findByEventId: async (c, e) => {
      await pause();
      return base.findByEventId(c, e);
    },
    append: async (e) => {
      await pause();
      try {
        return await base.append(e);
      } catch (err) {
        if (err instanceof ConflictError) conflicts++;
        throw err;
      }
    },
    putCheckpoint: (c) => base.putCheckpoint(c),
    lastCheckpoint: (c) => base.lastCheckpoint(c),
    entries: (c, f, t) => base.entries(c, f, t),
    checkpoints: (c) => base.checkpoints(c),
    chains: () => base.chains(),
  };
}

describe("the audit writer under redelivery", () => {
  it("writes a message delivered twice once, in one batch or in two", async () => {
    const [m1, m2] = auditRecs("acme", 2).map((r) => auditMessage(r));
    expect(await processAuditBatch([m1!, m1!, m2!], deps())).toEqual({ batchItemFailures: [] });
    expect(await processAuditBatch([{ ...m2!, messageId: "again" }], deps())).toEqual({
      batchItemFailures: [],
    });
    expect(await chainEventIds(store, "acme")).toEqual(["acme-e1", "acme-e2"]);
  });

  it("after a crash half-way through a batch of 10, ends with entries 1..10 exactly once, in order", async () => {
    const records = auditRecs("acme", 10);
    const batch = records.map((r) => auditMessage(r));
    let appends = 0;
    const crashing: AuditStore = {
      ...store,
      async append(e) {
        if (++appends === 6) throw new Error("connection reset");
        return store.append(e);
      },
    };
    const res = await processAuditBatch(batch, deps(crashing));
    // Stopped at the 6th: it and everything after it go back to the queue.
    expect(failedIds(res)).toEqual(batch.slice(5).map((m) => m.messageId));
    expect(await chainEventIds(store, "acme")).toEqual(ids(records.slice(0, 5)));
    // Lambda redelivers the failed tail; a crashed invocation would redeliver the whole batch.
    expect(await processAuditBatch(batch.slice(5), deps(crashing))).toEqual({ batchItemFailures: [] });
    expect(await processAuditBatch(batch, deps(crashing))).toEqual({ batchItemFailures: [] });
    expect(await chainEventIds(store, "acme")).toEqual(ids(records));
  });

  it("keeps one linear chain when two writers race over the same and over interleaved records", async () => {
    const a = jittery(createSqliteAuditStore(openDatabase(path)));
    const b = jittery(createSqliteAuditStore(openDatabase(path)));
    const records = auditRecs("acme", 20);
    const batch = records.map((r) => auditMessage(r));
    // The same batch twice at once (a visibility timeout expired mid-batch), then odd and even halves.
    const same = await Promise.all([processAuditBatch(batch, deps(a)), processAuditBatch(batch, deps(b))]);
    expect(same.flatMap(failedIds)).toEqual([]);
    expect(await chainEventIds(store, "acme")).toEqual(ids(records));

    const more = auditRecs("acme", 20, 21).map((r) => auditMessage(r));
    const [odd, even] = [more.filter((_, i) => i % 2 === 0), more.filter((_, i) => i % 2 === 1)];
    const split = await Promise.all([processAuditBatch(odd, deps(a)), processAuditBatch(even, deps(b))]);
    expect(split.flatMap(failedIds)).toEqual([]);
    const chain = await chainEventIds(store, "acme");
    expect(chain.slice(0, 20)).toEqual(ids(records));
    expect([...chain.slice(20)].sort()).toEqual(ids(auditRecs("acme", 20, 21)).sort());
    expect(conflicts).toBeGreaterThan(0);
    // Each writer's own records keep their relative order.
    expect(chain.filter((id) => odd.some((m) => m.body.includes(`"${id}"`)))).toEqual(
      odd.map((m) => (JSON.parse(m.body) as AuditRecord).eventId),
    );
  });

  it("stops at a poison message instead of skipping it", async () => {
    const good = auditRecs("acme", 4).map((r) => auditMessage(r));
    const notJson: SqsFifoRecord = { ...good[2]!, messageId: "bad", body: "{not json" };
    const batch = [good[0]!, good[1]!, notJson, good[3]!];
    expect(failedIds(await processAuditBatch(batch, deps()))).toEqual(["bad", good[3]!.messageId]);
    const noKind = auditMessage(
      { ...auditRec("acme", 3), kind: "unknown" } as unknown as AuditRecord,
      "nokind",
    );
    expect(failedIds(await processAuditBatch([noKind], deps()))).toEqual(["nokind"]);
    const wrongGroup = {
      ...auditMessage(auditRec("acme", 3), "wrong"),
      attributes: { ...good[0]!.attributes, MessageGroupId: "beta" },
    };
    expect(failedIds(await processAuditBatch([wrongGroup], deps()))).toEqual(["wrong"]);
    expect(await chainEventIds(store, "acme")).toEqual(["acme-e1", "acme-e2"]);
  });

  it("gives up on a record after a bounded number of lost races, failing it and the rest", async () => {
    const losing: AuditStore = {
      ...store,
      append: async () => {
        throw new ConflictError("taken");
      },
    };
    const batch = auditRecs("acme", 2).map((r) => auditMessage(r));
    const res = await processAuditBatch(batch, deps(losing, { maxAppendAttempts: 3 }));
    expect(failedIds(res)).toEqual(batch.map((m) => m.messageId));
    expect(await store.head("acme")).toBeUndefined();
  });
});
