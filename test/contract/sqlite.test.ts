import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll } from "vitest";
import { createSqliteSpendStore } from "../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../core/budgets/sqlite-store.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import { createSqliteRateLimitStore } from "../../core/ratelimit/sqlite-store.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { budgetStoreContract } from "./budget-store.contract.ts";
import { keyAdminContract } from "./key-admin.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { rateLimitStoreContract } from "./rate-limit-store.contract.ts";
import { registryAdminContract } from "./registry-admin.contract.ts";
import { registryStoreContract } from "./registry-store.contract.ts";
import { spendStoreContract } from "./spend-store.contract.ts";

// A peer store is a second store instance over the same database handle (an in-memory database cannot
// be opened twice).
const registryDbs = new WeakMap<RegistryStore, DatabaseSync>();
const keyDbs = new WeakMap<KeyStore, DatabaseSync>();

registryStoreContract(
  "SQLite",
  async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRegistryStore(db);
    registryDbs.set(store, db);
    return store;
  },
  (store) => createSqliteRegistryStore(registryDbs.get(store)!),
);

registryAdminContract(
  "SQLite",
  async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRegistryStore(db);
    registryDbs.set(store, db);
    return store;
  },
  (store) => createSqliteRegistryStore(registryDbs.get(store)!),
);

keyStoreContract(
  "SQLite",
  async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteKeyStore(db);
    keyDbs.set(store, db);
    return store;
  },
  (store) => createSqliteKeyStore(keyDbs.get(store)!),
);

keyAdminContract(
  "SQLite",
  async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteKeyStore(db);
    keyDbs.set(store, db);
    return store;
  },
  (store) => createSqliteKeyStore(keyDbs.get(store)!),
);

// Budgets, rate limits and spend run over a database file with one connection per client, as separate
// processes would (BEGIN IMMEDIATE serialises them; the busy timeout makes the others wait).
const limitsDir = mkdtempSync(join(tmpdir(), "limits-contract-"));
const limitsConnections: DatabaseSync[] = [];
afterAll(() => {
  for (const db of limitsConnections) db.close();
  rmSync(limitsDir, { recursive: true, force: true });
});
const CLIENTS = 4;
let limitsFiles = 0;
/** A fresh database file; `connection(n)` opens (once) the n-th connection to it. */
function freshFile(): (client: number) => DatabaseSync {
  const path = join(limitsDir, `db-${++limitsFiles}.sqlite`);
  const open = new Map<number, DatabaseSync>();
  return (client) => {
    let db = open.get(client);
    if (!db) {
      db = openDatabase(path);
      limitsConnections.push(db);
      open.set(client, db);
    }
    return db;
  };
}

budgetStoreContract(
  "SQLite",
  async () => {
    const connection = freshFile();
    return (region, client) => createSqliteBudgetStore(connection(client), region);
  },
  CLIENTS,
);

rateLimitStoreContract(
  "SQLite",
  async () => {
    const connection = freshFile();
    return (client) => createSqliteRateLimitStore(connection(client));
  },
  CLIENTS,
);

spendStoreContract(
  "SQLite",
  async () => {
    const connection = freshFile();
    return (client) => createSqliteSpendStore(connection(client));
  },
  CLIENTS,
);
