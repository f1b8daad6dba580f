import { beforeEach, describe, expect, it } from "vitest";
import { nextEntry } from "../../core/audit/chain.ts";
import type { AuditStore } from "../../core/audit/port.ts";
import type { ChainEntry, Checkpoint } from "../../core/audit/types.ts";
import { ConflictError } from "../../core/storage/errors.ts";
import { auditRec, auditRecs, chainEventIds, expectLinear } from "./audit-fixtures.ts";

/** Appends records in order through `store`, returning the entries. */
async function appendAll(store: AuditStore, records: ReturnType<typeof auditRecs>): Promise<ChainEntry[]> {
  const out: ChainEntry[] = [];
  for (const r of records) {
    const e = nextEntry(out.at(-1) ?? (await store.head(r.chain)), r);
    await store.append(e);
    out.push(e);
  }
  return out;
}

const checkpoint = (chain: string, seq: number, headHash: string, signature = "sig"): Checkpoint => ({
  chain,
  seq,
  headHash,
  time: new Date(Date.UTC(2026, 10, 26, 11, 0, seq)).toISOString(),
  signature,
  keyId: "local:test",
});

/**
 * The AuditStore contract. `makeStore` returns a store over fresh, empty storage; `peerOf` a second,
 * independent store (own client/connection) over the same storage.
 */
export function auditStoreContract(
  name: string,
  makeStore: () => Promise<AuditStore>,
  peerOf: (store: AuditStore) => AuditStore,
): void {
  describe(`AuditStore contract: ${name}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("starts empty", async () => {
      expect(await store.head("acme")).toBeUndefined();
      expect(await store.findByEventId("acme", "acme-e1")).toBeUndefined();
      expect(await store.entries("acme", 1, 10)).toEqual([]);
      expect(await store.lastCheckpoint("acme")).toBeUndefined();
      expect(await store.checkpoints("acme")).toEqual([]);
      expect(await store.chains()).toEqual([]);
    });

    it("keeps chains apart and reads head, ranges and entries by event id", async () => {
      const acme = await appendAll(store, auditRecs("acme", 5));
      await appendAll(store, auditRecs("system", 2));
      expect(await store.head("acme")).toEqual(acme[4]);
      expect(await store.entries("acme", 2, 4)).toEqual(acme.slice(1, 4));
      expect(await store.entries("acme", 4, 99)).toEqual(acme.slice(3));
      expect(await store.findByEventId("acme", "acme-e3")).toEqual(acme[2]);
      expect(await store.findByEventId("system", "acme-e3")).toBeUndefined();
      expect((await store.chains()).sort()).toEqual(["acme", "system"]);
      expect(await chainEventIds(store, "system")).toEqual(["system-e1", "system-e2"]);
    });

    it("reads a record back exactly as it was hashed", async () => {
      const odd = auditRec("acme", 1, {
        unicode: "é😀\u2028",
        nested: { a: [1, 0.1, 1e21, -5, null, true] },
        empty: "",
      });
      await appendAll(store, [odd]);
      const entries = await store.entries("acme", 1, 1);
      expect(entries[0]?.record).toEqual(odd);
      expectLinear(entries);
    });

    it("refuses a taken seq, a gap, a wrong prevHash and a second seq for one event, writing nothing", async () => {
      const [e1] = await appendAll(store, [auditRec("acme", 1)]);
      const other = nextEntry(undefined, auditRec("acme", 2));
      await expect(store.append(other)).rejects.toBeInstanceOf(ConflictError);
      const gap = { ...nextEntry(e1, auditRec("acme", 3)), seq: 3 };
      await expect(store.append(gap)).rejects.toBeInstanceOf(ConflictError);
      const forked = nextEntry({ ...e1!, hash: "f".repeat(64) }, auditRec("acme", 4));
      await expect(store.append(forked)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.append(nextEntry(e1, auditRec("acme", 1)))).rejects.toBeInstanceOf(ConflictError);
      expect(await store.head("acme")).toEqual(e1);
      expect(await store.entries("acme", 1, 10)).toEqual([e1]);
      for (const n of [2, 3, 4]) expect(await store.findByEventId("acme", `acme-e${n}`)).toBeUndefined();
      // The chain goes on from its real head.
      await appendAll(store, [auditRec("acme", 2)]);
      expect(await chainEventIds(store, "acme")).toEqual(["acme-e1", "acme-e2"]);
    });

    it("lets exactly one of racing writers take a seq", async () => {
      const peer = peerOf(store);
      await appendAll(store, [auditRec("acme", 1)]);
      const head = await store.head("acme");
      const tries = Array.from({ length: 8 }, (_, i) => nextEntry(head, auditRec("acme", 10 + i)));
      const results = await Promise.allSettled(tries.map((e, i) => (i % 2 ? peer : store).append(e)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ConflictError);
      expect((await chainEventIds(peer, "acme")).length).toBe(2);
    });

    it("stores checkpoints in order, keeps the first of a seq, and returns the last", async () => {
      const [e1] = await appendAll(store, auditRecs("acme", 1));
      await store.putCheckpoint(checkpoint("acme", 1, e1!.hash));
      const entries = [e1!, ...(await appendAll(store, auditRecs("acme", 3).slice(1)))];
      await store.putCheckpoint(checkpoint("acme", 3, entries[2]!.hash));
      await expect(
        store.putCheckpoint(checkpoint("acme", 3, entries[2]!.hash, "other")),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.lastCheckpoint("acme")).toEqual(checkpoint("acme", 3, entries[2]!.hash));
      expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([1, 3]);
      expect(await store.checkpoints("system")).toEqual([]);
    });

    it("refuses a checkpoint of an entry that is no longer the head, or of another hash, storing nothing", async () => {
      const entries = await appendAll(store, auditRecs("acme", 3));
      await expect(store.putCheckpoint(checkpoint("acme", 2, entries[1]!.hash))).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(store.putCheckpoint(checkpoint("acme", 3, entries[1]!.hash))).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(store.putCheckpoint(checkpoint("empty", 1, entries[0]!.hash))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await store.checkpoints("acme")).toEqual([]);
      await store.putCheckpoint(checkpoint("acme", 3, entries[2]!.hash));
      expect((await store.checkpoints("acme")).map((c) => c.seq)).toEqual([3]);
    });

    it("returns the checkpoints of a seq range, both ends included", async () => {
      const records = auditRecs("acme", 12);
      for (const [from, to] of [
        [0, 1],
        [1, 5],
        [5, 10],
        [10, 12],
      ] as const) {
        const added = await appendAll(store, records.slice(from, to));
        await store.putCheckpoint(checkpoint("acme", to, added.at(-1)!.hash));
      }
      const seqs = async (from?: number, to?: number) =>
        (await store.checkpoints("acme", from, to)).map((c) => c.seq);
      expect(await seqs(5, 10)).toEqual([5, 10]);
      expect(await seqs(6)).toEqual([10, 12]);
      expect(await seqs(2, 4)).toEqual([]);
      expect(await seqs(11, 10)).toEqual([]);
    });

    it("returns every entry of a chain past 100 items and 1 MB, in order", async () => {
      const bulk = "x".repeat(9_000);
      const records = Array.from({ length: 130 }, (_, i) => auditRec("big", i + 1, { bulk }));
      await appendAll(store, records);
      const all = await store.entries("big", 1, 130);
      expect(all).toHaveLength(130);
      expectLinear(all);
      expect((await store.entries("big", 120, 1_000)).map((e) => e.seq)).toEqual(
        Array.from({ length: 11 }, (_, i) => 120 + i),
      );
    }, 60_000);
  });
}
