import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEntry } from "../../core/audit/chain.ts";
import { createDynamoAuditStore } from "../../core/audit/dynamo-store.ts";
import type { AuditStore } from "../../core/audit/port.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { auditRec, auditRecs } from "./audit-fixtures.ts";
import { auditStoreContract } from "./audit-store.contract.ts";

let ddb: DynamoDbLocal;
let admin: DynamoDBClient;
let doc: DynamoDBDocumentClient;
/** A second client with its own connection pool: a peer writer must not share the first one's sockets. */
let peerDoc: DynamoDBDocumentClient;
let queries = 0;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  admin = ddb.client();
  const base = ddb.client();
  // Counts Query calls, to prove that reading a chain past 1 MB really pages.
  base.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "QueryCommand") queries++;
      return next(args);
    },
    { step: "initialize", name: "countQueries" },
  );
  doc = DynamoDBDocumentClient.from(base);
  peerDoc = ddb.documentClient();
}, 60_000);

afterAll(async () => {
  for (const c of [doc, peerDoc, admin]) c?.destroy();
  await ddb?.dispose();
});

let tables = 0;
async function freshTable(): Promise<string> {
  const name = `audit-${++tables}-${process.pid}`;
  await createTables(admin, [name]);
  return name;
}

const storeTables = new WeakMap<AuditStore, string>();

auditStoreContract(
  "DynamoDB Local",
  async () => {
    const table = await freshTable();
    const store = createDynamoAuditStore(doc, table);
    storeTables.set(store, table);
    return store;
  },
  (store) => createDynamoAuditStore(peerDoc, storeTables.get(store)!),
);

describe("DynamoDB audit store specifics", () => {
  it("pages the Query of a chain past 1 MB", async () => {
    const store = createDynamoAuditStore(doc, await freshTable());
    // 30 entries of ~40 KB: 1.2 MB in few appends (the contract checks 130 entries for the 100-item side).
    const bulk = "x".repeat(40_000);
    let head = await store.head("big");
    for (const r of auditRecs("big", 30).map((r) => ({ ...r, data: { ...r.data, bulk } }))) {
      head = nextEntry(head, r);
      await store.append(head);
    }
    queries = 0;
    expect(await store.entries("big", 1, 30)).toHaveLength(30);
    expect(queries).toBeGreaterThan(1);
  }, 60_000);

  it("finds an event only in its own chain, even when ids hold '#'", async () => {
    const store = createDynamoAuditStore(doc, await freshTable());
    // EVENT#a#b#c is the key of both (chain "a#b", event "c") and (chain "a", event "b#c").
    const r = { ...auditRec("a#b", 1), eventId: "c" };
    await store.append(nextEntry(undefined, r));
    expect((await store.findByEventId("a#b", "c"))?.record).toEqual(r);
    expect(await store.findByEventId("a", "b#c")).toBeUndefined();
    expect(await store.chains()).toEqual(["a#b"]);
  });
});
