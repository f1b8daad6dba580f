import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { scanPages } from "../storage/dynamo-batch.ts";
import type { RegistryEntry, RegistryKind, RegistrySource } from "./port.ts";

/** pk prefix per kind; every entry's sk is `DOC`, so a kind and its id live in the partition key. */
export const PREFIX: Record<RegistryKind, string> = { provider: "PROVIDER#", model: "MODEL#", org: "ORG#" };
export const DOC = "DOC";
export const META = { pk: "META", sk: "VERSION" } as const;

export const entryKey = (kind: RegistryKind, id: string) => ({ pk: `${PREFIX[kind]}${id}`, sk: DOC });

/** One registry item as stored: the config object is kept as a JSON string in `doc`. */
export interface Entry {
  pk: string;
  kind: RegistryKind;
  id: string;
  doc: string;
  source: string;
}

const isKind = (v: unknown): v is RegistryKind => v === "provider" || v === "model" || v === "org";

export function toEntry(item: Record<string, unknown>, table: string): Entry {
  const { pk, kind, id, doc: body, source } = item;
  if (typeof pk !== "string" || !isKind(kind) || typeof id !== "string" || typeof body !== "string")
    throw new Error(`Malformed registry item ${String(pk)} in ${table}.`);
  return { pk, kind, id, doc: body, source: typeof source === "string" ? source : "" };
}

/** The port's view of an item: the parsed document and who wrote it (anything but "admin" is config). */
export const toRegistryEntry = <K extends RegistryKind>(e: Entry): RegistryEntry<K> =>
  ({
    kind: e.kind,
    id: e.id,
    doc: JSON.parse(e.doc),
    source: (e.source === "admin" ? "admin" : "config") satisfies RegistrySource,
  }) as RegistryEntry<K>;

/** Every `DOC` entry in the table (or of one kind), page by page (a Scan page ends at 1 MB). */
export async function scanEntries(
  doc: DynamoDBDocumentClient,
  table: string,
  kind?: RegistryKind,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  // ConsistentRead: the registry table is a global table, and strongly consistent reads are only
  // consistent within the region; that is all we need, since writers and readers of one stage share it.
  for await (const page of scanPages(doc, {
    TableName: table,
    ConsistentRead: true,
    FilterExpression: kind ? "sk = :doc AND #kind = :kind" : "sk = :doc",
    ExpressionAttributeValues: { ":doc": DOC, ...(kind ? { ":kind": kind } : {}) },
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
    for (const item of page.items) entries.push(toEntry(item, table));
  }
  return entries;
}

export async function readVersion(doc: DynamoDBDocumentClient, table: string): Promise<number> {
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
