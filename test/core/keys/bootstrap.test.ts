import type { DatabaseSync } from "node:sqlite";
import { beforeEach, describe, expect, it } from "vitest";
import type { KeyConfig } from "../../../core/config/types.ts";
import {
  BOOTSTRAP_ADMIN_KEY_ID,
  BOOTSTRAP_API_KEY_ID,
  type BootstrapInput,
  bootstrapKeys,
} from "../../../core/keys/bootstrap.ts";
import type { KeyStore } from "../../../core/keys/port.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

let db: DatabaseSync;
let store: KeyStore;
const NOW = "2025-06-01T12:00:00.000Z";
const input = (over: Partial<BootstrapInput> = {}): BootstrapInput => ({
  org: "default",
  configured: [],
  orgs: new Set(["default"]),
  now: NOW,
  ...over,
});
const rows = () => db.prepare("SELECT id, role, org, sha256, created_at FROM api_keys ORDER BY id").all();

beforeEach(() => {
  db = openDatabase(":memory:");
  store = createSqliteKeyStore(db);
});

describe("bootstrapKeys", () => {
  it("creates an api key and an admin key on first start and returns their secrets once", async () => {
    const created = await bootstrapKeys(store, input());
    expect(created.map(({ id, role, org }) => ({ id, role, org }))).toEqual([
      { id: BOOTSTRAP_API_KEY_ID, role: "api", org: "default" },
      { id: BOOTSTRAP_ADMIN_KEY_ID, role: "admin", org: "default" },
    ]);
    for (const key of created) {
      expect(key.secret).toMatch(/^sk-gw-/);
      expect(await store.findBySha256(sha256Hex(key.secret))).toMatchObject({
        id: key.id,
        role: key.role,
        createdAt: NOW,
      });
    }
    expect(created[0]?.secret).not.toBe(created[1]?.secret);
    expect(JSON.stringify(rows())).not.toContain(created[0]?.secret);
  });

  it("creates nothing on the second start", async () => {
    await bootstrapKeys(store, input());
    const before = rows();
    expect(await bootstrapKeys(store, input({ now: "2030-01-01T00:00:00.000Z" }))).toEqual([]);
    expect(rows()).toEqual(before);
  });

  it("stores operator-given keys by hash and does not return them", async () => {
    const apiKey = "sk-operator-api";
    const adminKey = "sk-operator-admin";
    expect(await bootstrapKeys(store, input({ apiKey, adminKey }))).toEqual([]);
    expect(await store.findBySha256(sha256Hex(apiKey))).toMatchObject({
      id: BOOTSTRAP_API_KEY_ID,
      role: "api",
      name: "api key from GATEWAY_API_KEY",
    });
    expect(await store.findBySha256(sha256Hex(adminKey))).toMatchObject({
      id: BOOTSTRAP_ADMIN_KEY_ID,
      role: "admin",
      name: "admin key from GATEWAY_ADMIN_KEY",
    });
    const dump = JSON.stringify(rows());
    expect(dump).not.toContain(apiKey);
    expect(dump).not.toContain(adminKey);
  });

  it("generates only the role the operator did not give", async () => {
    const created = await bootstrapKeys(store, input({ apiKey: "sk-operator-api" }));
    expect(created.map((k) => k.role)).toEqual(["admin"]);
  });

  it("replaces a generated key when the operator later gives one", async () => {
    const [generated] = await bootstrapKeys(store, input());
    await bootstrapKeys(store, input({ apiKey: "sk-operator-api" }));
    expect(await store.findBySha256(sha256Hex(generated!.secret))).toBeUndefined();
    expect(await store.findBySha256(sha256Hex("sk-operator-api"))).toMatchObject({
      id: BOOTSTRAP_API_KEY_ID,
    });
    expect(await store.count()).toBe(2);
  });

  it("stores keys declared in the config as given", async () => {
    const configured: KeyConfig[] = [
      { id: "ci", org: "acme", role: "api", name: "CI", sha256: sha256Hex("ci-key"), models: ["smart"] },
      { id: "ops", org: "acme", role: "admin", sha256: sha256Hex("ops-key") },
    ];
    const created = await bootstrapKeys(store, input({ configured }));
    expect(created).toEqual([]);
    expect(await store.findBySha256(sha256Hex("ci-key"))).toEqual({
      ...configured[0],
      createdAt: NOW,
      source: "config",
    });
    expect(await store.findBySha256(sha256Hex("ops-key"))).toMatchObject({ id: "ops", role: "admin" });
    expect(await store.count()).toBe(2);
  });

  it("stores a config key's budgets and rate limits", async () => {
    const configured: KeyConfig[] = [
      {
        id: "ci",
        org: "acme",
        role: "api",
        sha256: sha256Hex("ci-key"),
        budgets: [{ period: "day", limitUsd: 2 }],
        rateLimits: { requestsPerMinute: 10, tokensPerMinute: 5_000 },
      },
    ];
    await bootstrapKeys(store, input({ configured }));
    expect(await store.get("ci")).toEqual({ ...configured[0], createdAt: NOW, source: "config" });
    // A later start with the limits removed from the config removes them from the key.
    await bootstrapKeys(
      store,
      input({ configured: [{ id: "ci", org: "acme", role: "api", sha256: sha256Hex("ci-key") }] }),
    );
    const after = await store.get("ci");
    expect([after?.budgets, after?.rateLimits]).toEqual([undefined, undefined]);
  });

  it("still generates the role the config does not declare", async () => {
    const configured: KeyConfig[] = [{ id: "ci", org: "acme", role: "api", sha256: sha256Hex("ci-key") }];
    const created = await bootstrapKeys(store, input({ configured }));
    expect(created.map((k) => k.id)).toEqual([BOOTSTRAP_ADMIN_KEY_ID]);
    expect(await store.count("api")).toBe(1);
    expect(await store.count("admin")).toBe(1);
  });

  it("updates a config key in place when its hash changes", async () => {
    const key = (sha: string): KeyConfig => ({ id: "ci", org: "acme", role: "api", sha256: sha });
    await bootstrapKeys(store, input({ configured: [key(sha256Hex("old"))] }));
    await bootstrapKeys(store, input({ configured: [key(sha256Hex("new"))] }));
    expect(await store.findBySha256(sha256Hex("old"))).toBeUndefined();
    expect(await store.findBySha256(sha256Hex("new"))).toMatchObject({ id: "ci" });
  });

  it("removes a key the config file declared at the last start and no longer does, and no other", async () => {
    const ci: KeyConfig = { id: "ci", org: "acme", role: "api", sha256: sha256Hex("ci-key") };
    await bootstrapKeys(store, input({ configured: [ci] }));
    await store.create({
      id: "made-by-admin",
      org: "acme",
      role: "api",
      sha256: sha256Hex("x"),
      createdAt: NOW,
    });
    await bootstrapKeys(store, input({ configured: [] }));
    expect(await store.findBySha256(sha256Hex("ci-key"))).toBeUndefined();
    expect(await store.get("made-by-admin")).toBeDefined();
    expect(await store.get(BOOTSTRAP_ADMIN_KEY_ID)).toBeDefined();
  });
});
