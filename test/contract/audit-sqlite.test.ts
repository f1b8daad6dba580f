import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll } from "vitest";
import type { AuditStore } from "../../core/audit/port.ts";
import { createSqliteAuditStore } from "../../core/audit/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { auditStoreContract } from "./audit-store.contract.ts";

// Each store gets a fresh database file; its peer is a second connection to that file, as a second
// process would have (BEGIN IMMEDIATE serialises their appends).
const dir = mkdtempSync(join(tmpdir(), "audit-store-contract-"));
const connections: DatabaseSync[] = [];
const paths = new WeakMap<AuditStore, string>();
let files = 0;
const open = (path: string) => {
  const db = openDatabase(path);
  connections.push(db);
  return db;
};
afterAll(() => {
  for (const db of connections) db.close();
  rmSync(dir, { recursive: true, force: true });
});

auditStoreContract(
  "SQLite",
  async () => {
    const path = join(dir, `audit-${++files}.sqlite`);
    const store = createSqliteAuditStore(open(path));
    paths.set(store, path);
    return store;
  },
  (store) => createSqliteAuditStore(open(paths.get(store)!)),
);
