import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";
import { batchWriteAll, scanPages, type WriteRequest } from "../storage/dynamo-batch.ts";
import type { RegistrySnapshot, RegistryStore } from "./port.ts";

type Kind = "provider" | "model" | "org";

/** pk prefix per kind; every entry's sk is `DOC`, so a kind and its id live in the partition key. */
const PREFIX: Record<Kind, string> = { provider: "PROVIDER#", model: "MODEL#", org: "ORG#" };
const DOC = "DOC";
const META = { pk: "META", sk: "VERSION" } as const;

interface Entry {
  pk: string;
  kind: Kind;
  id: string;
  doc: string;
  source: string;
}

const isKind = (v: unknown): v is Kind => v === "provider" || v === "model" || v === "org";

/** Every `DOC` entry in the table, page by page (a Scan page ends at 1 MB). */
async function scanEntries(doc: DynamoDBDocumentClient, table: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  // ConsistentRead: the registry table is a global table, and strongly consistent reads are only
  // consistent within the region; that is all we need, since writers and readers of one stage share it.
  for await (const page of scanPages(doc, {
    TableName: table,
    ConsistentRead: true,
    FilterExpression: "sk = :doc",
    ExpressionAttributeValues: { ":doc": DOC },
    // Aliases throughout: `source` (and possibly others) are DynamoDB reserved words.
    ProjectionExpression: "#pk, #kind, #id, #doc, #source",
    ExpressionAttributeNames: {
      "#pk": "pk",
      "#kind": "kind",
      "#id": "id",
      "#doc": "doc",
      "#source": "source",
    },
  })) {
    for (const item of page.items) {
      const { pk, kind, id, doc: body, source } = item;
      if (typeof pk !== "string" || !isKind(kind) || typeof id !== "string" || typeof body !== "string")
        throw new Error(`Malformed registry item ${String(pk)} in ${table}.`);
      entries.push({ pk, kind, id, doc: body, source: typeof source === "string" ? source : "" });
    }
  }
  return entries;
}

async function readVersion(doc: DynamoDBDocumentClient, table: string): Promise<number> {
  const out = await doc.send(
    new GetCommand({
      TableName: table,
      Key: META,
      ConsistentRead: true,
      ProjectionExpression: "#v",
      ExpressionAttributeNames: { "#v": "version" },
    }),
  );
  const v: unknown = out.Item?.version;
  return typeof v === "number" ? v : 0;
}

/**
 * The registry in one DynamoDB table: one item per provider, model and org (`PROVIDER#id`, `MODEL#alias`,
 * `ORG#id`; sk `DOC`; the config object as a JSON string in `doc`), plus a `META`/`VERSION` counter.
 * Semantics match the SQLite store: config-sourced entries are replaced by the next applyConfig, admin
 * entries with other ids survive it, and the version moves only when something changed.
 */
export function createDynamoRegistryStore(doc: DynamoDBDocumentClient, tableName: string): RegistryStore {
  return {
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
      // Entries first, version last: a reader that sees the new version is guaranteed to find every entry
      // it covers (load() reads the version before it scans).
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
