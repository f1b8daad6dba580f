import { beforeEach, describe, expect, it } from "vitest";
import type { ModelConfig, ProviderConfig } from "../../core/config/types.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { ConflictError, NotFoundError, VersionChangedError } from "../../core/storage/errors.ts";
import { smallConfig } from "./fixtures.ts";

const provider = (id: string, region = "us"): ProviderConfig => ({ id, kind: "mock", region, models: [] });
const model = (alias: string, provider = "mock"): ModelConfig => ({
  alias,
  strategy: "fallback",
  targets: [{ provider, model: "echo" }],
});

/**
 * The admin half of the RegistryStore contract: single-entry reads and conditional writes, each of
 * which bumps the version exactly once, and only when it changed something.
 */
export function registryAdminContract(
  name: string,
  makeStore: () => Promise<RegistryStore>,
  peerOf: (store: RegistryStore) => RegistryStore,
): void {
  describe(`RegistryStore admin contract: ${name}`, () => {
    let store: RegistryStore;
    beforeEach(async () => {
      store = await makeStore();
      await store.applyConfig(smallConfig);
    });

    it("lists one kind sorted by id and gets one entry, with its source", async () => {
      await store.create("provider", provider("zz"));
      await store.create("provider", provider("aa"));
      const list = await store.list("provider");
      expect(list.map((e) => [e.id, e.source])).toEqual([
        ["aa", "admin"],
        ["mock", "config"],
        ["openai", "config"],
        ["zz", "admin"],
      ]);
      expect(await store.get("provider", "aa")).toEqual({
        kind: "provider",
        id: "aa",
        doc: provider("aa"),
        source: "admin",
      });
      expect(await store.get("model", "aa")).toBeUndefined();
      expect((await store.list("org")).map((e) => e.id)).toEqual(["acme", "default"]);
    });

    it("bumps the version once per successful write, and the snapshot carries the change", async () => {
      expect(await store.version()).toBe(1);
      await store.create("model", model("fresh"));
      expect(await store.version()).toBe(2);
      await store.replace("model", model("fresh", "openai"));
      expect(await store.version()).toBe(3);
      expect((await store.load()).models.get("fresh")?.targets[0]?.provider).toBe("openai");
      expect(await store.remove("model", "fresh")).toBe(true);
      const snap = await store.load();
      expect([snap.version, snap.models.has("fresh")]).toEqual([4, false]);
    });

    it("refuses to create an existing id (config or admin) without bumping", async () => {
      await expect(store.create("provider", provider("mock"))).rejects.toBeInstanceOf(ConflictError);
      await store.create("org", { id: "new" });
      await expect(store.create("org", { id: "new", name: "again" })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.version()).toBe(2);
      expect((await store.get("org", "new"))?.doc).toEqual({ id: "new" });
    });

    it("refuses to replace a missing entry and reports a missing remove, without bumping", async () => {
      await expect(store.replace("org", { id: "ghost" })).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.remove("org", "ghost")).toBe(false);
      expect(await store.get("org", "ghost")).toBeUndefined();
      expect(await store.version()).toBe(1);
    });

    const guardedWrites: Array<[string, (s: RegistryStore, ifVersion: number) => Promise<unknown>]> = [
      ["create", (s, ifVersion) => s.create("model", model("fresh"), { ifVersion })],
      ["replace", (s, ifVersion) => s.replace("model", model("default", "openai"), { ifVersion })],
      ["remove", (s, ifVersion) => s.remove("model", "smart", { ifVersion })],
      ["bump", (s, ifVersion) => s.bump({ ifVersion })],
    ];

    it.each(guardedWrites)(
      "refuses a guarded %s once the version moved past its guard, writing nothing",
      async (_, write) => {
        const read = await store.version();
        await peerOf(store).create("org", { id: "meanwhile" });
        const before = await store.load();
        await expect(write(store, read)).rejects.toBeInstanceOf(VersionChangedError);
        expect(await store.load()).toEqual(before);
      },
    );

    it.each(guardedWrites)("makes a guarded %s at its guard's version, bumping once", async (_, write) => {
      const read = await store.version();
      await write(store, read);
      expect(await store.version()).toBe(read + 1);
    });

    it("lets exactly one of two concurrent guarded writes at one version land", async () => {
      const read = await store.version();
      const results = await Promise.allSettled([
        store.create("model", model("one"), { ifVersion: read }),
        peerOf(store).create("model", model("two"), { ifVersion: read }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      expect(await store.version()).toBe(read + 1);
    });

    it("lets exactly one of two concurrent creates of one id win, bumping once", async () => {
      const peer = peerOf(store);
      for (let round = 0; round < 3; round++) {
        const before = await store.version();
        const id = `race-${round}`;
        const results = await Promise.allSettled([
          store.create("provider", provider(id, "us")),
          peer.create("provider", provider(id, "eu")),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ConflictError);
        const winner = results[0]!.status === "fulfilled" ? "us" : "eu";
        expect((await store.get("provider", id))?.doc.region).toBe(winner);
        expect(await store.version()).toBe(before + 1);
      }
    });

    it("lets exactly one of two concurrent removes report true", async () => {
      const peer = peerOf(store);
      await store.create("org", { id: "gone" });
      const results = await Promise.all([store.remove("org", "gone"), peer.remove("org", "gone")]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.version()).toBe(3);
    });

    it("makes an admin write visible to another store instance", async () => {
      const peer = peerOf(store);
      await store.create("model", model("shared"));
      expect(await peer.version()).toBe(2);
      expect((await peer.load()).models.get("shared")).toEqual(model("shared"));
    });

    it("keeps admin entries the config does not declare; the config wins for those it declares", async () => {
      await store.create("org", { id: "admin-only" });
      await store.replace("org", { id: "acme", name: "edited by admin" });
      expect((await store.get("org", "acme"))?.source).toBe("admin");
      await store.applyConfig(smallConfig);
      expect((await store.get("org", "admin-only"))?.source).toBe("admin");
      const acme = await store.get("org", "acme");
      expect([acme?.source, acme?.doc]).toEqual(["config", smallConfig.orgs[0]]);
      // Re-applying the same file again is a no-op once it owns the entry.
      const v = await store.version();
      await store.applyConfig(smallConfig);
      expect(await store.version()).toBe(v);
    });
  });
}
