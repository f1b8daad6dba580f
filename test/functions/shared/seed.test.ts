import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/parse.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { seedStores } from "../../../functions/shared/seed.ts";

const budget: { period: "month"; limitUsd: number } = { period: "month", limitUsd: 50 };
const configWith = (budgets: Array<typeof budget>) =>
  parseConfig({
    orgs: [{ id: "acme", budgets }],
    keys: [{ id: "k1", org: "acme", sha256: sha256Hex("sk-gw-seed-test-key-000"), budgets }],
  });

describe("seedStores", () => {
  it("stamps a config file's budgets when they are added, and keeps the stamp while they stay", async () => {
    const db = openDatabase(":memory:");
    const registry = createSqliteRegistryStore(db);
    const keys = createSqliteKeyStore(db);
    const since = async () => ({
      org: (await registry.load()).orgs.get("acme")?.budgets?.[0]?.since,
      key: (await keys.get("k1"))?.budgets?.[0]?.since,
    });
    const env = { GATEWAY_API_KEY: "sk-gw-seed-api-0000000", GATEWAY_ADMIN_KEY: "sk-gw-seed-admin-000000" };

    await seedStores(registry, keys, configWith([budget]), env);
    const first = await since();
    expect(first.org).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(first.key).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await sleep(5);
    // Started again with the same file, or another limit: the same budget, the same counter.
    await seedStores(registry, keys, configWith([{ ...budget, limitUsd: 80 }]), env);
    expect(await since()).toEqual(first);
    // Removed, then back: a budget added again.
    await seedStores(registry, keys, configWith([]), env);
    await sleep(5);
    await seedStores(registry, keys, configWith([budget]), env);
    const again = await since();
    expect(again.org! > first.org!).toBe(true);
    expect(again.key! > first.key!).toBe(true);
  });
});

describe("seedStores, with a file that drops what admin-made entries use", () => {
  const file = (over: { providers?: string[]; orgs?: string[] } = {}) =>
    parseConfig({
      providers: (over.providers ?? ["p1", "p2"]).map((id) => ({ id, kind: "mock" })),
      orgs: (over.orgs ?? ["acme", "beta"]).map((id) => ({ id })),
    });

  async function seeded() {
    const db = openDatabase(":memory:");
    const registry = createSqliteRegistryStore(db);
    const keys = createSqliteKeyStore(db);
    await seedStores(registry, keys, file(), {});
    // What an admin made meanwhile: a model on p2, a key in beta.
    await registry.create("model", {
      alias: "madmin",
      strategy: "fallback",
      targets: [{ provider: "p2", model: "m" }],
    });
    await keys.put({
      id: "kbeta",
      org: "beta",
      role: "api",
      sha256: sha256Hex("sk-gw-kbeta"),
      createdAt: "2026-11-26T00:00:00.000Z",
    });
    return { registry, keys };
  }

  it.each([
    [
      "the provider of an admin-made model",
      { providers: ["p1"] },
      "model 'madmin' (made through the admin API) routing to provider 'p2', which the config no longer declares",
    ],
    [
      "the org of an admin-made key",
      { orgs: ["acme"] },
      "key 'kbeta' in org 'beta', which the config no longer declares",
    ],
  ])("refuses to drop %s, and changes nothing", async (_, over, message) => {
    const { registry, keys } = await seeded();
    const before = { registry: await registry.load(), keys: await keys.list() };
    await expect(seedStores(registry, keys, file(over), {})).rejects.toThrow(
      `applying it would leave ${message}. Keep those in the file, or change or delete what uses them through the admin API first.`,
    );
    expect({ registry: await registry.load(), keys: await keys.list() }).toEqual(before);
  });

  it("refuses a file key allowed a model that names nothing, naming where, and changes nothing", async () => {
    const { registry, keys } = await seeded();
    const before = { registry: await registry.load(), keys: await keys.list() };
    const config = parseConfig({
      ...file(),
      keys: [
        { id: "k1", org: "acme", sha256: sha256Hex("sk-gw-seed-models-0"), models: ["madmin", "madmn"] },
      ],
    });
    await expect(seedStores(registry, keys, config, {})).rejects.toThrow(
      "keys[0].models[1]: 'madmn' is neither a model alias nor provider/model of a configured provider",
    );
    expect({ registry: await registry.load(), keys: await keys.list() }).toEqual(before);
  });

  it("takes a file key allowed an admin-made alias and provider/model names", async () => {
    const { registry, keys } = await seeded();
    const config = parseConfig({
      ...file(),
      keys: [{ id: "k1", org: "acme", sha256: sha256Hex("sk-gw-seed-models-1"), models: ["madmin", "p1/m"] }],
    });
    await seedStores(registry, keys, config, {});
    expect((await keys.get("k1"))?.models).toEqual(["madmin", "p1/m"]);
  });

  it("drops them once nothing uses them", async () => {
    const { registry, keys } = await seeded();
    await registry.remove("model", "madmin");
    await keys.remove("kbeta");
    await seedStores(registry, keys, file({ providers: ["p1"], orgs: ["acme"] }), {});
    expect([...(await registry.load()).providers.keys()]).toEqual(["p1"]);
  });

  it("leaves the bootstrap keys where they are when the file reorders its orgs", async () => {
    const { registry, keys } = await seeded();
    await seedStores(registry, keys, file({ orgs: ["beta", "acme"] }), {});
    expect((await keys.list()).filter((k) => k.id.startsWith("bootstrap-")).map((k) => k.org)).toEqual([
      "acme",
      "acme",
    ]);
  });

  it("takes back an admin-made key the file now declares, whatever org it was in", async () => {
    const { registry, keys } = await seeded();
    await registry.remove("model", "madmin");
    const config = parseConfig({
      providers: [
        { id: "p1", kind: "mock" },
        { id: "p2", kind: "mock" },
      ],
      orgs: [{ id: "acme" }],
      keys: [{ id: "kbeta", org: "acme", sha256: sha256Hex("sk-gw-kbeta-from-the-file") }],
    });
    await seedStores(registry, keys, config, {});
    expect((await keys.get("kbeta"))?.org).toBe("acme");
  });

  it("starts with references that already pointed at nothing, which this file does not change", async () => {
    const { registry, keys } = await seeded();
    // What an earlier version let a file do: p2 gone while madmin still routes to it.
    await registry.applyConfig({
      providers: file({ providers: ["p1"] }).providers,
      models: [],
      orgs: file().orgs,
    });
    await seedStores(registry, keys, file({ providers: ["p1"] }), {});
    expect((await registry.get("model", "madmin"))?.doc.targets[0]?.provider).toBe("p2");
  });

  it("moves the bootstrap keys to the file's first org when their org is gone", async () => {
    const { registry, keys } = await seeded();
    await registry.remove("model", "madmin");
    await keys.remove("kbeta");
    await seedStores(registry, keys, file({ orgs: ["gamma"] }), {});
    expect((await keys.list()).map((k) => [k.id, k.org])).toEqual([
      ["bootstrap-admin", "gamma"],
      ["bootstrap-api", "gamma"],
    ]);
  });
});
