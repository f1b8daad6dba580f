import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { groupCommitFor } from "./sqlite-group-commit.ts";

/** Modes for what the gateway makes on disk (the umask may take more away, never add). */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * Opens the portable-mode database. WAL lets the server read while a writer commits; a busy timeout
 * makes a second process (a CLI next to the server) wait instead of failing.
 */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR });
    // Made readable by its owner only: it holds the audit trail (a sensitive org's prompts) and spend.
    // SQLite gives the -wal and -shm files it makes beside it the database file's mode.
    closeSync(openSync(path, "a", PRIVATE_FILE));
  }
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  return db;
}

/**
 * Runs `fn` in a transaction, rolling back its writes on any error. The commit also carries the
 * connection's queued group-commit work (sqlite-group-commit.ts), which needs no commit of its own then.
 * Called inside another of this connection's (a store's write running its caller's `within`), `fn`
 * joins it in a savepoint: its writes commit with it, and are undone alone if `fn` throws.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  return groupCommitFor(db).now(fn);
}

/**
 * Runs `read` on one snapshot of the database, without the write lock: a plain BEGIN takes a WAL read
 * snapshot, which another process's open write transaction neither blocks nor changes, where
 * `transaction` (BEGIN IMMEDIATE) would wait for that writer and then fail busy.
 */
export function readSnapshot<T>(db: DatabaseSync, read: () => T): T {
  db.exec("BEGIN");
  try {
    return read();
  } finally {
    // A read has nothing to commit; an error may have ended the transaction already (SQLITE_IOERR).
    // Never left open: the group commit's next BEGIN IMMEDIATE on this connection would fail.
    if (db.isTransaction) db.exec("ROLLBACK");
  }
}

/**
 * Adds a column to a table created by an earlier version. SQLite has no ADD COLUMN IF NOT EXISTS, so
 * look first; adding a column is instant (no table rewrite). `definition` must give old rows a value
 * (nullable, or NOT NULL with a DEFAULT).
 */
export function addColumn(db: DatabaseSync, table: string, column: string, definition: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as unknown as { name: string }[];
  if (columns.some((c) => c.name === column)) return;
  try {
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  } catch (err) {
    // Another process on the same file migrated between our look and our ALTER.
    if (!(err instanceof Error && /duplicate column name/.test(err.message))) throw err;
  }
}
