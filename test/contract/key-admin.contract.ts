import { beforeEach, describe, expect, it } from "vitest";
import type { KeyStore } from "../../core/keys/port.ts";
import { key, sha } from "./fixtures.ts";

/** The admin half of the KeyStore contract: list, get by id, revoke. */
export function keyAdminContract(
  name: string,
  makeStore: () => Promise<KeyStore>,
  peerOf: (store: KeyStore) => KeyStore,
): void {
  describe(`KeyStore admin contract: ${name}`, () => {
    let store: KeyStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("lists every key sorted by id and gets one by id", async () => {
      const full = key("b", { name: "ci", models: ["smart"], role: "admin" });
      await store.create(full);
      await store.create(key("a"));
      expect(await store.list()).toEqual([key("a"), full]);
      expect(await store.get("b")).toEqual(full);
      expect(await store.get("nobody")).toBeUndefined();
    });

    it("gets the current record after a rotation", async () => {
      await store.create(key("k1"));
      await store.put(key("k1", { sha256: sha("rotated") }));
      expect((await store.get("k1"))?.sha256).toBe(sha("rotated"));
      expect(await store.list()).toHaveLength(1);
    });

    it("removes a key: its hash stops authenticating and its id and hash are free again", async () => {
      await store.create(key("k1"));
      await store.create(key("k2"));
      expect(await store.remove("k1")).toBe(true);
      expect(await store.findBySha256(key("k1").sha256)).toBeUndefined();
      expect(await store.get("k1")).toBeUndefined();
      expect([await store.count(), (await store.list()).map((k) => k.id)]).toEqual([1, ["k2"]]);
      expect(await store.remove("k1")).toBe(false);
      await store.create(key("k1"));
      expect((await store.findBySha256(key("k1").sha256))?.id).toBe("k1");
    });

    it("removes the current hash of a rotated key", async () => {
      await store.create(key("k1"));
      await store.put(key("k1", { sha256: sha("rotated") }));
      expect(await store.remove("k1")).toBe(true);
      expect(await store.findBySha256(sha("rotated"))).toBeUndefined();
      expect(await store.count()).toBe(0);
    });

    it("lets exactly one of two concurrent removes report true", async () => {
      const peer = peerOf(store);
      await store.create(key("k1"));
      const results = await Promise.all([store.remove("k1"), peer.remove("k1")]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.count()).toBe(0);
    });
  });
}
