import { beforeEach, describe, expect, it } from "vitest";
import type { KeyStore } from "../../core/keys/port.ts";
import { ConflictError } from "../../core/storage/errors.ts";
import { bulkyModels, key, sha } from "./fixtures.ts";

/**
 * The KeyStore contract. `makeStore` returns a store over fresh, empty storage; `peerOf` returns a second,
 * independent store instance (own client/connection) over the same storage as the one given.
 */
export function keyStoreContract(
  name: string,
  makeStore: () => Promise<KeyStore>,
  peerOf: (store: KeyStore) => KeyStore,
): void {
  describe(`KeyStore contract: ${name}`, () => {
    let store: KeyStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("round-trips a record by its hash, with and without optional fields", async () => {
      const full = key("k1", {
        name: "ci",
        models: ["smart", "openai/gpt-4o"],
        role: "admin",
        source: "config",
      });
      const bare = key("k2");
      await store.create(full);
      await store.create(bare);
      expect(await store.findBySha256(full.sha256)).toEqual(full);
      const found = await store.findBySha256(bare.sha256);
      expect(found).toEqual(bare);
      expect([found?.name, found?.models, found?.source]).toEqual([undefined, undefined, undefined]);
      expect(await store.findBySha256(sha("nobody"))).toBeUndefined();
    });

    it("round-trips budgets and rate limits through create, put and every read", async () => {
      const limits = {
        budgets: [
          { period: "day" as const, limitUsd: 1.5 },
          { period: "month" as const, limitUsd: 20 },
        ],
        rateLimits: { requestsPerMinute: 60, tokensPerMinute: 100_000 },
      };
      const limited = key("k1", limits);
      await store.create(limited);
      await store.create(key("k2", { rateLimits: { requestsPerMinute: 5 } }));
      expect(await store.findBySha256(limited.sha256)).toEqual(limited);
      expect(await store.get("k1")).toEqual(limited);
      expect((await store.list()).map((k) => [k.id, k.budgets, k.rateLimits])).toEqual([
        ["k1", limits.budgets, limits.rateLimits],
        ["k2", undefined, { requestsPerMinute: 5 }],
      ]);
      // Replacing the key replaces its limits, down to none.
      await store.put(key("k1", { budgets: [{ period: "month", limitUsd: 5 }] }));
      expect(await store.get("k1")).toEqual(key("k1", { budgets: [{ period: "month", limitUsd: 5 }] }));
      await store.put(key("k1"));
      const bare = await store.findBySha256(limited.sha256);
      expect([bare?.budgets, bare?.rateLimits]).toEqual([undefined, undefined]);
    });

    it("refuses create with a taken id or a taken hash, leaving nothing behind", async () => {
      await store.create(key("k1"));
      const sameId = key("k1", { sha256: sha("other") });
      await expect(store.create(sameId)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.create(key("k2", { sha256: key("k1").sha256 }))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await store.findBySha256(sameId.sha256)).toBeUndefined();
      expect((await store.findBySha256(key("k1").sha256))?.id).toBe("k1");
      expect(await store.count()).toBe(1);
    });

    it("put inserts a new id", async () => {
      await store.put(key("k1"));
      expect((await store.findBySha256(key("k1").sha256))?.id).toBe("k1");
      await expect(store.create(key("k1", { sha256: sha("x") }))).rejects.toBeInstanceOf(ConflictError);
    });

    it("put replaces by id: the old hash stops authenticating, the new one works", async () => {
      await store.create(key("k1", { name: "old" }));
      const rotated = key("k1", { sha256: sha("rotated"), name: "new", role: "admin", models: ["smart"] });
      await store.put(rotated);
      expect(await store.findBySha256(key("k1").sha256)).toBeUndefined();
      expect(await store.findBySha256(rotated.sha256)).toEqual(rotated);
      expect(await store.count()).toBe(1);
      // The id is still taken, under its new hash too.
      await expect(store.create(key("k1", { sha256: sha("third") }))).rejects.toBeInstanceOf(ConflictError);
      await expect(store.create(key("k9", { sha256: rotated.sha256 }))).rejects.toBeInstanceOf(ConflictError);
    });

    it("put with the same hash updates the record and keeps its creation time", async () => {
      await store.create(key("k1"));
      await store.put(key("k1", { org: "other", name: "renamed", createdAt: "2030-01-01T00:00:00.000Z" }));
      const found = await store.findBySha256(key("k1").sha256);
      expect([found?.org, found?.name, found?.createdAt]).toEqual(["other", "renamed", key("k1").createdAt]);
    });

    it("update changes a key's settings, found by its hash and its id, and keeps its creation time", async () => {
      await store.create(key("k1", { models: ["a"], budgets: [{ period: "month", limitUsd: 9 }] }));
      const read = (await store.get("k1"))!;
      const edited = key("k1", {
        name: "edited",
        models: ["b"],
        budgets: [{ period: "day", limitUsd: 2 }],
        rateLimits: { requestsPerMinute: 7 },
        createdAt: "2030-01-01T00:00:00.000Z",
      });
      expect(await store.update(edited, read)).toBe(true);
      for (const found of [await store.findBySha256(key("k1").sha256), await peerOf(store).get("k1")])
        expect(found).toEqual({ ...edited, createdAt: key("k1").createdAt });
    });

    it.each([
      ["a key deleted meanwhile", async (s: KeyStore) => void (await s.remove("k1"))],
      [
        "a key given another hash meanwhile",
        async (s: KeyStore) => s.put(key("k1", { sha256: sha("rotated") })),
      ],
    ])("update brings back nothing of %s", async (_what, meanwhile) => {
      await store.create(key("k1"));
      const read = (await store.get("k1"))!;
      await meanwhile(peerOf(store));
      expect(await store.update(key("k1", { name: "late edit" }), read)).toBe(false);
      expect(await store.findBySha256(key("k1").sha256)).toBeUndefined();
      expect((await store.get("k1"))?.name).toBeUndefined();
    });

    it("update loses no edit that landed since the key was read", async () => {
      await store.create(key("k1", { models: ["a"], rateLimits: { requestsPerMinute: 3 } }));
      const read = (await store.get("k1"))!;
      // Another admin's edit lands first.
      expect(await peerOf(store).update({ ...read, models: ["cheap"] }, read)).toBe(true);
      // This one read the key before it: refused, to be merged into what is there now.
      expect(await store.update({ ...read, rateLimits: undefined }, read)).toBe(false);
      expect(await store.get("k1")).toMatchObject({
        models: ["cheap"],
        rateLimits: { requestsPerMinute: 3 },
      });
    });

    it("refuses put with a hash that belongs to another id, changing neither key", async () => {
      await store.create(key("k1"));
      await store.create(key("k2"));
      await expect(store.put(key("k2", { sha256: key("k1").sha256 }))).rejects.toBeInstanceOf(ConflictError);
      expect((await store.findBySha256(key("k1").sha256))?.id).toBe("k1");
      expect((await store.findBySha256(key("k2").sha256))?.id).toBe("k2");
      expect(await store.count()).toBe(2);
    });

    it("lets exactly one of two concurrent puts on one id win, leaving no orphan hash", async () => {
      const peer = peerOf(store);
      await store.create(key("k1"));
      for (let round = 0; round < 5; round++) {
        const a = key("k1", { sha256: sha(`a-${round}`), name: "a" });
        const b = key("k1", { sha256: sha(`b-${round}`), name: "b" });
        const results = await Promise.allSettled([store.put(a), peer.put(b)]);
        // A loser may be refused (ConflictError) but must not fail any other way.
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ConflictError);
        expect(results.some((r) => r.status === "fulfilled")).toBe(true);
        const found = [await store.findBySha256(a.sha256), await store.findBySha256(b.sha256)];
        expect(found.filter(Boolean)).toHaveLength(1);
        expect(found.find(Boolean)?.id).toBe("k1");
        expect(await store.findBySha256(key("k1").sha256)).toBeUndefined();
        expect(await store.count()).toBe(1);
      }
    });

    it("counts all keys and keys per role", async () => {
      await store.create(key("a1"));
      await store.create(key("a2"));
      await store.create(key("adm", { role: "admin" }));
      expect([await store.count(), await store.count("api"), await store.count("admin")]).toEqual([3, 2, 1]);
    });

    it("counts 150 keys (~1.2 MB) exactly, past one Scan page and past 100 items", async () => {
      const ids = Array.from({ length: 150 }, (_, i) => `bulk-${i}`);
      for (let i = 0; i < ids.length; i += 10) {
        await Promise.all(
          ids
            .slice(i, i + 10)
            .map((id, j) =>
              store.create(
                key(id, { models: bulkyModels(i + j), role: (i + j) % 3 === 0 ? "admin" : "api" }),
              ),
            ),
        );
      }
      expect(await store.count()).toBe(150);
      expect(await store.count("admin")).toBe(50);
      expect(await store.count("api")).toBe(100);
    });
  });
}
