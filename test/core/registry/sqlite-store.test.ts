import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/parse.ts";
import type { GatewayConfig } from "../../../core/config/types.ts";
import type { RegistryStore } from "../../../core/registry/port.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const config = parseConfig({
  providers: [
    { id: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", region: "us" },
    { id: "mock", kind: "mock", models: ["echo"] },
  ],
  models: [
    { alias: "default", targets: [{ provider: "mock", model: "echo" }] },
    { alias: "smart", targets: [{ provider: "openai", model: "gpt-4o", timeouts: { idleMs: 5 } }] },
  ],
  orgs: [{ id: "acme", allowedRegions: ["eu"] }, { id: "default" }],
});

let store: RegistryStore;

beforeEach(() => {
  store = createSqliteRegistryStore(openDatabase(":memory:"));
});

const variant = (change: (c: GatewayConfig) => void): GatewayConfig => {
  const c = structuredClone(config);
  change(c);
  return c;
};

describe("the SQLite registry store", () => {
  it("starts empty at version 0", async () => {
    expect(await store.version()).toBe(0);
    const snap = await store.load();
    expect(snap.version).toBe(0);
    expect([snap.providers.size, snap.models.size, snap.orgs.size]).toEqual([0, 0, 0]);
  });

  it("stores a config and bumps the version once", async () => {
    await store.applyConfig(config);
    expect(await store.version()).toBe(1);
  });

  it("loads maps keyed by provider id, model alias and org id", async () => {
    await store.applyConfig(config);
    const snap = await store.load();
    expect(snap.version).toBe(1);
    expect([...snap.providers.keys()].sort()).toEqual(["mock", "openai"]);
    expect([...snap.models.keys()].sort()).toEqual(["default", "smart"]);
    expect([...snap.orgs.keys()].sort()).toEqual(["acme", "default"]);
    expect(snap.providers.get("openai")).toEqual(config.providers[0]);
    expect(snap.models.get("smart")).toEqual(config.models[1]);
    expect(snap.orgs.get("acme")).toEqual(config.orgs[0]);
  });

  it("does not bump the version when the same config is applied again", async () => {
    await store.applyConfig(config);
    await store.applyConfig(structuredClone(config));
    expect(await store.version()).toBe(1);
  });

  it.each([
    ["a provider's region changes", (c: GatewayConfig) => (c.providers[0]!.region = "eu")],
    [
      "a model gains a target",
      (c: GatewayConfig) => c.models[0]!.targets.push({ provider: "openai", model: "x" }),
    ],
    ["an org is added", (c: GatewayConfig) => c.orgs.push({ id: "new" })],
    ["a model is removed", (c: GatewayConfig) => c.models.pop()],
  ])("bumps the version exactly once when %s", async (_what, change) => {
    await store.applyConfig(config);
    await store.applyConfig(variant(change));
    expect(await store.version()).toBe(2);
  });

  it("reflects a changed entry in the next load", async () => {
    await store.applyConfig(config);
    await store.applyConfig(variant((c) => (c.providers[0]!.region = "eu")));
    expect((await store.load()).providers.get("openai")?.region).toBe("eu");
  });

  it("removes entries that disappeared from the config", async () => {
    await store.applyConfig(config);
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
  });

  it("empties the registry when an empty config is applied", async () => {
    await store.applyConfig(config);
    await store.applyConfig({ providers: [], models: [], orgs: [] });
    const snap = await store.load();
    expect([snap.providers.size, snap.models.size, snap.orgs.size]).toEqual([0, 0, 0]);
    expect(snap.version).toBe(2);
  });

  it("keeps ids of different kinds apart", async () => {
    const shared = parseConfig({
      providers: [{ id: "x", kind: "mock" }],
      models: [{ alias: "x", targets: [{ provider: "x", model: "m" }] }],
      orgs: [{ id: "x" }],
    });
    await store.applyConfig(shared);
    const snap = await store.load();
    expect([snap.providers.get("x")?.kind, snap.models.get("x")?.alias, snap.orgs.get("x")?.id]).toEqual([
      "mock",
      "x",
      "x",
    ]);
  });

  it("returns snapshots that later changes do not alter", async () => {
    await store.applyConfig(config);
    const before = await store.load();
    await store.applyConfig({ providers: [], models: [], orgs: [] });
    expect(before.providers.size).toBe(2);
    expect(before.version).toBe(1);
  });

  it("shares state between two stores on the same database", async () => {
    const db = openDatabase(":memory:");
    await createSqliteRegistryStore(db).applyConfig(config);
    const other = createSqliteRegistryStore(db);
    expect(await other.version()).toBe(1);
    expect((await other.load()).models.size).toBe(2);
  });
});
