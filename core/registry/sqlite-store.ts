import type { DatabaseSync } from "node:sqlite";
import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";
import { ConflictError, NotFoundError, VersionChangedError } from "../storage/errors.ts";
import { readSnapshot, transaction } from "../storage/sqlite.ts";
import {
  entryId,
  type RegistryEntry,
  type RegistryKind,
  type RegistrySnapshot,
  type RegistrySource,
  type RegistryStore,
  type Within,
  type WriteGuard,
} from "./port.ts";

type Kind = RegistryKind;
type Row = { kind: Kind; id: string; doc: string; source: RegistrySource };

const toEntry = <K extends Kind>(row: Row): RegistryEntry<K> =>
  ({ kind: row.kind, id: row.id, doc: JSON.parse(row.doc), source: row.source }) as RegistryEntry<K>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registry_entries (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  doc TEXT NOT NULL,
  source TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS registry_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO registry_version (one, version) VALUES (1, 0);
`;

export function createSqliteRegistryStore(db: DatabaseSync): RegistryStore {
  db.exec(SCHEMA);
  const versionStmt = db.prepare("SELECT version FROM registry_version WHERE one = 1");
  const bump = db.prepare("UPDATE registry_version SET version = version + 1 WHERE one = 1");
  const upsert = db.prepare(
    `INSERT INTO registry_entries (kind, id, doc, source, updated_at) VALUES (?, ?, ?, 'config', ?)
     ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, source = 'config', updated_at = excluded.updated_at
     WHERE registry_entries.doc <> excluded.doc OR registry_entries.source <> 'config'`,
  );
  const configIds = db.prepare("SELECT kind, id FROM registry_entries WHERE source = 'config'");
  const remove = db.prepare("DELETE FROM registry_entries WHERE kind = ? AND id = ?");
  const all = db.prepare("SELECT kind, id, doc FROM registry_entries");
  const ofKind = db.prepare("SELECT * FROM registry_entries WHERE kind = ? ORDER BY id");
  const one = db.prepare("SELECT * FROM registry_entries WHERE kind = ? AND id = ?");
  const insert = db.prepare(
    "INSERT INTO registry_entries (kind, id, doc, source, updated_at) VALUES (?, ?, ?, 'admin', ?)",
  );
  const update = db.prepare(
    "UPDATE registry_entries SET doc = ?, source = 'admin', updated_at = ? WHERE kind = ? AND id = ?",
  );

  /**
   * An admin write and its version bump commit together, or neither does. A guard is checked inside the
   * same transaction (BEGIN IMMEDIATE holds the write lock), so no other write can come between.
   */
  const writeAndBump = (write: () => boolean, guard: WriteGuard | undefined, within?: Within): boolean =>
    transaction(db, () => {
      if (guard && readVersion() !== guard.ifVersion)
        throw new VersionChangedError(
          `The registry changed since version ${guard.ifVersion} (now ${readVersion()}).`,
        );
      const changed = write();
      if (changed) {
        bump.run();
        within?.();
      }
      return changed;
    });

  const readVersion = () => Number((versionStmt.get() as { version: number }).version);

  return {
    async applyConfig(config: Pick<GatewayConfig, "providers" | "models" | "orgs">) {
      const now = new Date().toISOString();
      const wanted: Array<[Kind, string, unknown]> = [
        ...config.providers.map((p): [Kind, string, unknown] => ["provider", p.id, p]),
        ...config.models.map((m): [Kind, string, unknown] => ["model", m.alias, m]),
        ...config.orgs.map((o): [Kind, string, unknown] => ["org", o.id, o]),
      ];
      transaction(db, () => {
        let changed = 0;
        const keep = new Set(wanted.map(([k, id]) => `${k}\u0000${id}`));
        for (const [kind, id, doc] of wanted)
          changed += Number(upsert.run(kind, id, JSON.stringify(doc), now).changes);
        for (const row of configIds.all() as Array<{ kind: Kind; id: string }>) {
          if (!keep.has(`${row.kind}\u0000${row.id}`))
            changed += Number(remove.run(row.kind, row.id).changes);
        }
        if (changed > 0) bump.run();
      });
    },

    async load(): Promise<RegistrySnapshot> {
      const providers = new Map<string, ProviderConfig>();
      const models = new Map<string, ModelConfig>();
      const orgs = new Map<string, OrgConfig>();
      let version = 0;
      // A read: the version and the rows from one snapshot, and no wait behind another process's write.
      readSnapshot(db, () => {
        version = readVersion();
        for (const row of all.all() as Array<{ kind: Kind; id: string; doc: string }>) {
          const doc: unknown = JSON.parse(row.doc);
          if (row.kind === "provider") providers.set(row.id, doc as ProviderConfig);
          else if (row.kind === "model") models.set(row.id, doc as ModelConfig);
          else orgs.set(row.id, doc as OrgConfig);
        }
      });
      return { version, providers, models, orgs };
    },

    async version() {
      return readVersion();
    },

    async list(kind) {
      return (ofKind.all(kind) as Row[]).map((r) => toEntry(r));
    },

    async get(kind, id) {
      const row = one.get(kind, id) as Row | undefined;
      return row ? toEntry(row) : undefined;
    },

    async create(kind, doc, guard, within) {
      const id = entryId(kind, doc);
      writeAndBump(
        () => {
          // Checked inside the transaction (BEGIN IMMEDIATE holds the write lock), so two creates of one
          // id cannot both pass; the primary key would refuse the second anyway.
          if (one.get(kind, id)) throw new ConflictError(`A ${kind} '${id}' already exists.`);
          insert.run(kind, id, JSON.stringify(doc), new Date().toISOString());
          return true;
        },
        guard,
        within,
      );
    },

    async replace(kind, doc, guard, within) {
      const id = entryId(kind, doc);
      writeAndBump(
        () => {
          const n = Number(update.run(JSON.stringify(doc), new Date().toISOString(), kind, id).changes);
          if (n === 0) throw new NotFoundError(`No ${kind} '${id}'.`);
          return true;
        },
        guard,
        within,
      );
    },

    async remove(kind, id, guard, within) {
      return writeAndBump(() => Number(remove.run(kind, id).changes) > 0, guard, within);
    },

    async bump(guard, within) {
      writeAndBump(() => true, guard, within);
    },
  };
}
