import type { DatabaseSync } from "node:sqlite";
import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";
import { transaction } from "../storage/sqlite.ts";
import type { RegistrySnapshot, RegistryStore } from "./port.ts";

type Kind = "provider" | "model" | "org";

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
      transaction(db, () => {
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
  };
}
