import type { DatabaseSync } from "node:sqlite";
import { beforeEach, describe, expect, it } from "vitest";
import { checkpointPayload, entryHash } from "../../../core/audit/chain.ts";
import { checkpointQuietChains } from "../../../core/audit/checkpointer.ts";
import type { AuditStore, Signer } from "../../../core/audit/port.ts";
import { p256PublicKey, verifySignature } from "../../../core/audit/signing.ts";
import { createSqliteAuditStore } from "../../../core/audit/sqlite-store.ts";
import { verifyChain } from "../../../core/audit/verify.ts";
import { processAuditBatch, type WriterDeps, writeAuditMessage } from "../../../core/audit/writer.ts";
import { ConflictError } from "../../../core/storage/errors.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { auditMessage, auditRecs, testSigner } from "../../contract/audit-fixtures.ts";

/** Checkpoints: every N entries or T ms, signed through the signer port, never blocking below N. */
let signer: Signer;
let store: AuditStore;
let db: DatabaseSync;
let clock: number;

beforeEach(async () => {
  signer ??= await testSigner();
  db = openDatabase(":memory:");
  store = createSqliteAuditStore(db);
  clock = Date.UTC(2026, 10, 26, 12);
});

const deps = (extra: Partial<WriterDeps> = {}): WriterDeps => ({
  store,
  signer,
  now: () => clock,
  checkpointEvery: 4,
  checkpointMs: 60_000,
  ...extra,
});
const batch = (n: number, from = 1) => auditRecs("acme", n, from).map((r) => auditMessage(r));
const failing: Signer = {
  keyId: "broken",
  sign: async () => {
    throw new Error("KMS throttled");
  },
  publicKeyPem: async () => "",
};

describe("audit checkpoints", () => {
  it("signs the first entry and then every N entries, verifiably", async () => {
    expect(await processAuditBatch(batch(10), deps())).toEqual({ batchItemFailures: [] });
    const checkpoints = await store.checkpoints("acme");
    expect(checkpoints.map((c) => c.seq)).toEqual([1, 5, 9]);
    const key = p256PublicKey(await signer.publicKeyPem());
    for (const c of checkpoints) {
      expect(c.keyId).toBe(signer.keyId);
      expect(c.headHash).toBe((await store.entries("acme", c.seq, c.seq))[0]?.hash);
      expect(verifySignature(key, checkpointPayload(c), Buffer.from(c.signature, "base64"))).toBe(true);
    }
    const result = verifyChain({
      entries: await store.entries("acme", 1, 10),
      checkpoints,
      publicKeyPem: await signer.publicKeyPem(),
      maxUnsigned: 4,
    });
    expect(result).toMatchObject({ ok: true, entries: 10, lastSignedSeq: 9, unsignedTail: 1 });
  });

  it("signs after T ms when entries are unsigned, and a quiet chain on the timer", async () => {
    await processAuditBatch(batch(2), deps());
    clock += 60_000;
    await processAuditBatch(batch(1, 3), deps());
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 3]);
    await processAuditBatch(batch(1, 4), deps());
    expect(await checkpointQuietChains(deps())).toBe(0);
    clock += 60_000;
    expect(await checkpointQuietChains(deps())).toBe(1);
    expect(await checkpointQuietChains(deps())).toBe(0);
    expect((await store.lastCheckpoint("acme"))?.seq).toBe(4);
  });

  it("goes on while fewer than N entries are unsigned, then stops the batch until signing works", async () => {
    expect(await processAuditBatch(batch(1), deps())).toEqual({ batchItemFailures: [] });
    const res = await processAuditBatch(batch(6, 2), deps({ signer: failing }));
    // Entries 2..5 appended unsigned; the 5th reached N unsigned, so it fails (already appended) and stops.
    expect(res.batchItemFailures).toHaveLength(3);
    expect((await store.head("acme"))?.seq).toBe(5);
    // Redelivered while signing still fails: nothing more is appended, however often (a queue that gives
    // up on a record and moves to the next one finds the same wall).
    for (let i = 0; i < 3; i++) await processAuditBatch(batch(2, 6), deps({ signer: failing }));
    expect((await store.head("acme"))?.seq).toBe(5);
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1]);
    // Once signing works: the 5th is found (not appended again) and signed, the rest follow.
    const retry = await processAuditBatch(batch(3, 5), deps());
    expect(retry).toEqual({ batchItemFailures: [] });
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 5]);
    expect((await store.head("acme"))?.seq).toBe(7);
  });

  it("stops at a chain's first entry until it is signed: a chain with no checkpoint reads as tampered", async () => {
    const res = await processAuditBatch(batch(3), deps({ signer: failing }));
    expect(res.batchItemFailures).toHaveLength(3);
    expect((await store.head("acme"))?.seq).toBe(1);
    // The queue gave up on the first record (dead-lettered): the next finds the same wall.
    expect((await processAuditBatch(batch(2, 2), deps({ signer: failing }))).batchItemFailures).toHaveLength(
      2,
    );
    expect((await store.head("acme"))?.seq).toBe(1);
    expect(await processAuditBatch(batch(3), deps())).toEqual({ batchItemFailures: [] });
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1]);
    expect((await store.head("acme"))?.seq).toBe(3);
  });

  it("signs nothing that rewrote what a checkpoint signed, and holds up no other chain", async () => {
    await processAuditBatch(batch(6), deps());
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 5]);
    await processAuditBatch(
      auditRecs("beta", 2).map((r) => auditMessage(r)),
      deps(),
    );
    // Entries 3 to 6 of acme rewritten in the store and hashed anew, as someone without the key could.
    let prev = (await store.entries("acme", 2, 2))[0]!.hash;
    for (const entry of await store.entries("acme", 3, 6)) {
      const forged = entry.seq === 3 ? { ...entry.record, actor: "mallory" } : entry.record;
      const hash = entryHash(prev, forged);
      db.prepare(
        "UPDATE audit_entries SET record = ?, prev_hash = ?, hash = ? WHERE chain = 'acme' AND seq = ?",
      ).run(JSON.stringify(forged), prev, hash, entry.seq);
      prev = hash;
    }
    clock += 60_000;
    // The time rule would sign both chains' tails: acme's no longer extends its checkpoint at 5.
    expect(await checkpointQuietChains(deps())).toBe(1);
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 5]);
    expect((await store.checkpoints("beta")).map((c) => c.seq)).toEqual([1, 2]);
  });

  it("keeps signing when two writers race at the boundary and one's checkpoint comes too late to store", async () => {
    const records = auditRecs("acme", 12);
    for (const r of records.slice(0, 3))
      await writeAuditMessage(auditMessage(r), deps({ checkpointEvery: 3 }));
    // Writer A appends 4 and signs it slowly; meanwhile writer B, which read the same head, appends 5.
    let appended5!: () => void;
    const fifthIn = new Promise<void>((r) => {
      appended5 = r;
    });
    const watched: AuditStore = {
      ...store,
      append: async (e) => {
        await store.append(e);
        if (e.seq === 5) appended5();
      },
    };
    const slow: Signer = {
      ...signer,
      sign: async (m) => {
        await fifthIn;
        return signer.sign(m);
      },
    };
    const writer = (s: Signer) =>
      deps({ store: watched, signer: s, checkpointEvery: 3, checkpointMs: 3_600_000 });
    const settled = await Promise.allSettled([
      writeAuditMessage(auditMessage(records[3]!), writer(slow)),
      writeAuditMessage(auditMessage(records[4]!), writer(signer)),
    ]);
    // Whichever failed is redelivered; then the chain takes the rest, and every run stays signed.
    for (const [i, r] of settled.entries())
      if (r.status === "rejected") await writeAuditMessage(auditMessage(records[3 + i]!), writer(signer));
    for (const r of records.slice(5)) await writeAuditMessage(auditMessage(r), writer(signer));
    expect((await store.head("acme"))?.seq).toBe(12);
    const result = verifyChain({
      entries: await store.entries("acme", 1, 12),
      checkpoints: await store.checkpoints("acme"),
      publicKeyPem: await signer.publicKeyPem(),
      maxUnsigned: 3,
    });
    expect(result).toMatchObject({ ok: true, entries: 12 });
  });

  it("appends nothing past the unsigned allowance while the checkpoint that would cover it is refused", async () => {
    // Every checkpoint past the first is refused as a conflict (a head that moved, as the store says).
    let refusing = false;
    const refusingStore: AuditStore = {
      ...store,
      putCheckpoint: async (c) => {
        if (refusing) throw new ConflictError(`Chain ${c.chain}: the head has moved.`);
        return store.putCheckpoint(c);
      },
    };
    const writer = deps({ store: refusingStore, checkpointEvery: 3, checkpointMs: 3_600_000 });
    const records = auditRecs("acme", 5);
    await writeAuditMessage(auditMessage(records[0]!), writer);
    refusing = true;
    // 2, 3 and 4 fit the allowance (their own checkpoint, refused, is no failure of theirs).
    for (const r of records.slice(1, 4)) await writeAuditMessage(auditMessage(r), writer);
    await expect(writeAuditMessage(auditMessage(records[4]!), writer)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.head("acme"))?.seq).toBe(4);
    // Once a checkpoint can be stored, the record's redelivery goes in, signed behind.
    refusing = false;
    await writeAuditMessage(auditMessage(records[4]!), writer);
    expect((await store.head("acme"))?.seq).toBe(5);
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 4]);
  });
});
