import type { DatabaseSync } from "node:sqlite";
import type { KeyStore } from "../../core/keys/port.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { keyAdminContract } from "./key-admin.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { registryAdminContract } from "./registry-admin.contract.ts";
import { registryStoreContract } from "./registry-store.contract.ts";

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
