import { beforeEach, describe, expect, it } from "vitest";
import { checkpointPayload } from "../../../core/audit/chain.ts";
import { checkpointQuietChains } from "../../../core/audit/checkpointer.ts";
import type { AuditStore, Signer } from "../../../core/audit/port.ts";
import { p256PublicKey, verifySignature } from "../../../core/audit/signing.ts";
import { createSqliteAuditStore } from "../../../core/audit/sqlite-store.ts";
import { verifyChain } from "../../../core/audit/verify.ts";
import { processAuditBatch, type WriterDeps } from "../../../core/audit/writer.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { auditMessage, auditRecs, testSigner } from "../../contract/audit-fixtures.ts";

/** Checkpoints: every N entries or T ms, signed through the signer port, never blocking below N. */
let signer: Signer;
let store: AuditStore;
let clock: number;

beforeEach(async () => {
  signer ??= await testSigner();
  store = createSqliteAuditStore(openDatabase(":memory:"));
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
    const res = await processAuditBatch(batch(6), deps({ signer: failing }));
    // Entries 1..4 appended unsigned; the 4th reached N unsigned, so it fails (already appended) and stops.
    expect(res.batchItemFailures).toHaveLength(3);
    expect((await store.head("acme"))?.seq).toBe(4);
    expect(await store.checkpoints("acme")).toEqual([]);
    // Redelivered once signing works: the 4th is found (not appended again) and signed, the rest follow.
    const retry = await processAuditBatch(batch(3, 4), deps());
    expect(retry).toEqual({ batchItemFailures: [] });
    expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([4]);
    expect((await store.head("acme"))?.seq).toBe(6);
  });
});
