import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";
import { batchWriteAll, type WriteRequest } from "../storage/dynamo-batch.ts";
import { DOC, META, PREFIX, readVersion, scanEntries, toRegistryEntry } from "./dynamo-items.ts";
import { dynamoEntryOps } from "./dynamo-writes.ts";
import type { RegistryKind, RegistrySnapshot, RegistryStore } from "./port.ts";

type Kind = RegistryKind;

/**
 * The registry in one DynamoDB table: one item per provider, model and org (`PROVIDER#id`, `MODEL#alias`,
 * `ORG#id`; sk `DOC`; the config object as a JSON string in `doc`), plus a `META`/`VERSION` counter.
 * Semantics match the SQLite store: config-sourced entries are replaced by the next applyConfig, admin
 * entries with other ids survive it, and the version moves only when something changed. Admin writes
 * (create/replace/remove) are conditional puts in `dynamo-writes.ts`.
 */
export function createDynamoRegistryStore(doc: DynamoDBDocumentClient, tableName: string): RegistryStore {
  return {
    ...dynamoEntryOps(doc, tableName),

    async list(kind) {
      const entries = await scanEntries(doc, tableName, kind);
      return entries.map((e) => toRegistryEntry<typeof kind>(e)).sort((a, b) => (a.id < b.id ? -1 : 1));
    },

    async applyConfig(config: Pick<GatewayConfig, "providers" | "models" | "orgs">) {
      const now = new Date().toISOString();
      const wanted = new Map<string, { kind: Kind; id: string; doc: string }>();
      const want = (kind: Kind, id: string, value: unknown) =>
        wanted.set(`${PREFIX[kind]}${id}`, { kind, id, doc: JSON.stringify(value) });
      for (const p of config.providers) want("provider", p.id, p);
      for (const m of config.models) want("model", m.alias, m);
      for (const o of config.orgs) want("org", o.id, o);

      const existing = new Map((await scanEntries(doc, tableName)).map((e) => [e.pk, e]));
      const writes: WriteRequest[] = [];
      for (const [pk, w] of wanted) {
        const cur = existing.get(pk);
        // Same rule as the SQLite upsert: rewrite when the doc differs or an admin entry is taken over.
        if (cur && cur.doc === w.doc && cur.source === "config") continue;
        writes.push({
          PutRequest: { Item: { pk, sk: DOC, ...w, source: "config", updatedAt: now } },
        });
      }
      for (const [pk, cur] of existing) {
        if (cur.source === "config" && !wanted.has(pk))
          writes.push({ DeleteRequest: { Key: { pk, sk: DOC } } });
      }
      if (writes.length === 0) return;
      // Entries first, version last: a reader in this region that sees the new version is guaranteed to
      // find every entry it covers (load() reads the version before it scans). Another region's replica
      // may receive the two in either order; the cache's settle reload covers that (cache.ts).
      await batchWriteAll(doc, tableName, writes);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: META,
          UpdateExpression: "ADD #v :one",
          ExpressionAttributeNames: { "#v": "version" },
          ExpressionAttributeValues: { ":one": 1 },
        }),
      );
    },

    async load(): Promise<RegistrySnapshot> {
      // A Scan is not a snapshot. Reading the version first makes the pair safe: entries written after
      // it can only be newer than the version says, so the cache re-loads on its next version check,
      // whereas a version read after the scan could claim entries the scan missed.
      const version = await readVersion(doc, tableName);
      const providers = new Map<string, ProviderConfig>();
      const models = new Map<string, ModelConfig>();
      const orgs = new Map<string, OrgConfig>();
      for (const e of await scanEntries(doc, tableName)) {
        const value: unknown = JSON.parse(e.doc);
        if (e.kind === "provider") providers.set(e.id, value as ProviderConfig);
        else if (e.kind === "model") models.set(e.id, value as ModelConfig);
        else orgs.set(e.id, value as OrgConfig);
      }
      return { version, providers, models, orgs };
    },

    version: () => readVersion(doc, tableName),
  };
}
