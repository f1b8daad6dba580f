import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { rateLimitSchema, storedBudgetSchema } from "../config/schema.ts";
import { ConflictError } from "../storage/errors.ts";
import { addColumn, transaction } from "../storage/sqlite.ts";
import type { ApiKeyRecord, KeyStore } from "./port.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  org TEXT NOT NULL,
  role TEXT NOT NULL,
  name TEXT,
  models TEXT,
  created_at TEXT NOT NULL,
  limits TEXT,
  source TEXT
);
`;

/** Budgets and rate limits, as one JSON column: `{"budgets": [...], "rateLimits": {...}}`. */
const limitsSchema = z.object({
  budgets: z.array(storedBudgetSchema).optional(),
  rateLimits: rateLimitSchema.optional(),
});

interface Row {
  id: string;
  sha256: string;
  org: string;
  role: "api" | "admin";
  name: string | null;
  models: string | null;
  created_at: string;
  limits: string | null;
  source: string | null;
}

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  sha256: r.sha256,
  org: r.org,
  role: r.role,
  name: r.name ?? undefined,
  models: r.models ? (JSON.parse(r.models) as string[]) : undefined,
  ...(r.limits ? limitsSchema.parse(JSON.parse(r.limits)) : {}),
  createdAt: r.created_at,
  ...(r.source === "config" ? { source: "config" as const } : {}),
});

const limitsOf = (r: ApiKeyRecord): string | null =>
  r.budgets === undefined && r.rateLimits === undefined
    ? null
    : JSON.stringify({ budgets: r.budgets, rateLimits: r.rateLimits });

const params = (r: ApiKeyRecord) =>
  [
    r.id,
    r.sha256,
    r.org,
    r.role,
    r.name ?? null,
    r.models ? JSON.stringify(r.models) : null,
    r.createdAt,
    limitsOf(r),
    r.source ?? null,
  ] as const;

/** SQLite reports a UNIQUE or PRIMARY KEY violation as SQLITE_CONSTRAINT_*; that is a conflict, not a crash. */
function conflictsAsErrors(write: () => void): void {
  try {
    write();
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(err.message)) {
      throw new ConflictError("An API key with this id or hash already exists.");
    }
    throw err;
  }
}

export function createSqliteKeyStore(db: DatabaseSync): KeyStore {
  db.exec(SCHEMA);
  // Databases created before keys had limits lack the column; old rows read as having no limits.
  addColumn(db, "api_keys", "limits", "TEXT");
  // Databases created before config-file keys were tracked: their keys read as not from the file.
  addColumn(db, "api_keys", "source", "TEXT");
  const byHash = db.prepare("SELECT * FROM api_keys WHERE sha256 = ?");
  const upsert = db.prepare(
    `INSERT INTO api_keys (id, sha256, org, role, name, models, created_at, limits, source)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, org = excluded.org, role = excluded.role,
       name = excluded.name, models = excluded.models, limits = excluded.limits, source = excluded.source`,
  );
  const insert = db.prepare(
    "INSERT INTO api_keys (id, sha256, org, role, name, models, created_at, limits, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const updateSettings = db.prepare(
    `UPDATE api_keys SET name = ?, models = ?, limits = ?
     WHERE id = ? AND sha256 = ? AND name IS ? AND models IS ? AND limits IS ?`,
  );
  const count = db.prepare("SELECT COUNT(*) AS n FROM api_keys");
  const countRole = db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE role = ?");
  const all = db.prepare("SELECT * FROM api_keys ORDER BY id");
  const byId = db.prepare("SELECT * FROM api_keys WHERE id = ?");
  const removeId = db.prepare("DELETE FROM api_keys WHERE id = ?");
  return {
    async findBySha256(sha256) {
      const row = byHash.get(sha256) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async put(r) {
      conflictsAsErrors(() => upsert.run(...params(r)));
    },
    async create(r, within) {
      transaction(db, () => {
        conflictsAsErrors(() => insert.run(...params(r)));
        within?.();
      });
    },
    async update(r, previous, within) {
      const settings = (k: ApiKeyRecord) =>
        [k.name ?? null, k.models ? JSON.stringify(k.models) : null, limitsOf(k)] as const;
      return transaction(db, () => {
        const changed = updateSettings.run(
          ...settings(r),
          r.id,
          previous.sha256,
          ...settings(previous),
        ).changes;
        const updated = r.sha256 === previous.sha256 && Number(changed) > 0;
        if (updated) within?.();
        return updated;
      });
    },
    async count(role) {
      const row = (role ? countRole.get(role) : count.get()) as { n: number };
      return Number(row.n);
    },
    async list() {
      return (all.all() as unknown as Row[]).map(toRecord);
    },
    async get(id) {
      const row = byId.get(id) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async remove(id, within) {
      // One row holds both the id and the hash, so one DELETE revokes the key.
      return transaction(db, () => {
        const removed = Number(removeId.run(id).changes) > 0;
        if (removed) within?.();
        return removed;
      });
    },
  };
}
