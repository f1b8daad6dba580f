import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll } from "vitest";
import { createSqliteSpendStore } from "../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../core/budgets/sqlite-store.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import { createSqliteRateLimitStore } from "../../core/ratelimit/sqlite-store.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { budgetStoreContract } from "./budget-store.contract.ts";
import { keyAdminContract } from "./key-admin.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { rateLimitStoreContract } from "./rate-limit-store.contract.ts";
import { registryAdminContract } from "./registry-admin.contract.ts";
import { registryStoreContract } from "./registry-store.contract.ts";
import { spendStoreContract } from "./spend-store.contract.ts";

/**
 * The two factories a contract suite takes: a store over a fresh in-memory database, and a peer, a
 * second store instance over that same handle (an in-memory database cannot be opened twice).
 */
function memoryFactories<S extends object>(
  create: (db: DatabaseSync) => S,
): [make: () => Promise<S>, peerOf: (store: S) => S] {
  const dbOf = new WeakMap<S, DatabaseSync>();
  const make = async (): Promise<S> => {
    const db = openDatabase(":memory:");
    const store = create(db);
    dbOf.set(store, db);
    return store;
  };
  return [make, (store) => create(dbOf.get(store)!)];
}

registryStoreContract("SQLite", ...memoryFactories(createSqliteRegistryStore));
registryAdminContract("SQLite", ...memoryFactories(createSqliteRegistryStore));
keyStoreContract("SQLite", ...memoryFactories(createSqliteKeyStore));
keyAdminContract("SQLite", ...memoryFactories(createSqliteKeyStore));

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
    return (region, client, seed) => createSqliteBudgetStore(connection(client), region, seed);
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
    return (client, options) => createSqliteSpendStore(connection(client), options);
  },
  CLIENTS,
);
