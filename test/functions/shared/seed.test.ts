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
