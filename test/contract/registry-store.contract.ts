import { beforeEach, describe, expect, it } from "vitest";
import type { RegistryStore } from "../../core/registry/port.ts";
import { bigConfig, type RegistryConfig, smallConfig, variant } from "./fixtures.ts";

/**
 * The RegistryStore contract. `makeStore` returns a store over fresh, empty storage; `peerOf` returns a
 * second, independent store instance over the same storage as the one given (another Lambda, say).
 */
export function registryStoreContract(
  name: string,
  makeStore: () => Promise<RegistryStore>,
  peerOf: (store: RegistryStore) => RegistryStore,
): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let store: RegistryStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("starts empty at version 0", async () => {
      expect(await store.version()).toBe(0);
      const snap = await store.load();
      expect([snap.version, snap.providers.size, snap.models.size, snap.orgs.size]).toEqual([0, 0, 0, 0]);
    });

    it("round-trips a config: maps keyed by provider id, model alias and org id", async () => {
      await store.applyConfig(smallConfig);
      const snap = await store.load();
      expect(snap.version).toBe(1);
      expect(snap.providers).toEqual(new Map(smallConfig.providers.map((p) => [p.id, p])));
      expect(snap.models).toEqual(new Map(smallConfig.models.map((m) => [m.alias, m])));
      expect(snap.orgs).toEqual(new Map(smallConfig.orgs.map((o) => [o.id, o])));
    });

    it("is idempotent: the same config again keeps the version", async () => {
      await store.applyConfig(smallConfig);
      await store.applyConfig(structuredClone(smallConfig));
      expect(await store.version()).toBe(1);
      expect((await store.load()).version).toBe(1);
    });

    it.each<[string, (c: RegistryConfig) => void]>([
      ["a provider's region changes", (c) => (c.providers[0]!.region = "eu")],
      ["a model gains a target", (c) => c.models[0]!.targets.push({ provider: "openai", model: "x" })],
      ["an org is added", (c) => c.orgs.push({ id: "new" })],
      ["a model is removed", (c) => c.models.pop()],
    ])("bumps the version exactly once when %s", async (_what, change) => {
      await store.applyConfig(smallConfig);
      await store.applyConfig(variant(change));
      expect(await store.version()).toBe(2);
    });

    it("makes a bump and its entries visible to another store instance", async () => {
      const peer = peerOf(store);
      await store.applyConfig(smallConfig);
      expect(await peer.version()).toBe(1);
      await store.applyConfig(variant((c) => (c.providers[0]!.region = "eu")));
      expect(await peer.version()).toBe(2);
      const snap = await peer.load();
      expect(snap.version).toBe(2);
      expect(snap.providers.get("openai")?.region).toBe("eu");
    });

    it("removes config entries that disappeared from the config", async () => {
      await store.applyConfig(smallConfig);
      await store.applyConfig(
        variant((c) => {
          c.providers = c.providers.filter((p) => p.id === "mock");
          c.models = c.models.filter((m) => m.alias === "default");
          c.orgs = [];
        }),
      );
      const snap = await store.load();
      expect([...snap.providers.keys()]).toEqual(["mock"]);
      expect([...snap.models.keys()]).toEqual(["default"]);
      expect(snap.orgs.size).toBe(0);
      expect(snap.version).toBe(2);
    });

    it("empties the registry when an empty config is applied, and stays put on a repeat", async () => {
      await store.applyConfig(smallConfig);
      await store.applyConfig({ providers: [], models: [], orgs: [] });
      await store.applyConfig({ providers: [], models: [], orgs: [] });
      const snap = await store.load();
      expect([snap.version, snap.providers.size, snap.models.size, snap.orgs.size]).toEqual([2, 0, 0, 0]);
    });

    it("keeps ids of different kinds apart", async () => {
      const shared: RegistryConfig = {
        providers: [{ ...smallConfig.providers[1]!, id: "x" }],
        models: [{ alias: "x", strategy: "fallback", targets: [{ provider: "x", model: "m" }] }],
        orgs: [{ id: "x" }],
      };
      await store.applyConfig(shared);
      const snap = await store.load();
      expect([snap.providers.get("x")?.kind, snap.models.get("x")?.alias, snap.orgs.get("x")?.id]).toEqual([
        "mock",
        "x",
        "x",
      ]);
    });

    it("returns snapshots that later changes do not alter", async () => {
      await store.applyConfig(smallConfig);
      const before = await store.load();
      await store.applyConfig({ providers: [], models: [], orgs: [] });
      expect([before.version, before.providers.size]).toEqual([1, 2]);
    });

    it("loads a registry past 1 MB and past 100 items completely", async () => {
      const big = bigConfig();
      await store.applyConfig(big);
      const snap = await store.load();
      expect(snap.models.size).toBe(130);
      expect(snap.models).toEqual(new Map(big.models.map((m) => [m.alias, m])));
      expect(await store.version()).toBe(1);
      // Idempotence holds at size too: every entry compared, none rewritten.
      await store.applyConfig(structuredClone(big));
      expect(await store.version()).toBe(1);
      // And removal past the first page: drop all but 5 models.
      await store.applyConfig({ ...big, models: big.models.slice(0, 5) });
      const after = await store.load();
      expect([after.version, after.models.size]).toEqual([2, 5]);
    });
  });
}
