import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { cancellationCodes } from "../storage/dynamo-errors.ts";
import { ConflictError } from "../storage/errors.ts";
import type { AuditStore } from "./port.ts";
import type { AuditRecord, ChainEntry, Checkpoint } from "./types.ts";

type Item = Record<string, unknown>;

/** Zero-padded so the string sort key orders like the number (16 digits hold every safe integer). */
const pad = (seq: number) => String(seq).padStart(16, "0");
const chainPk = (chain: string) => `CHAIN#${chain}`;
const eventKey = (chain: string, eventId: string) => ({ pk: `EVENT#${chain}#${eventId}`, sk: "EVENT" });
const HEAD = "HEAD";
const CHAINS = "CHAINS";

/** The record is kept as the JSON text that was hashed: it reads back exactly (no number coercion). */
const entryAttrs = (e: ChainEntry) => ({
  chain: e.chain,
  seq: e.seq,
  prevHash: e.prevHash,
  hash: e.hash,
  record: JSON.stringify(e.record),
});

const toEntry = (i: Item): ChainEntry => ({
  chain: String(i.chain),
  seq: Number(i.seq),
  prevHash: String(i.prevHash),
  hash: String(i.hash),
  record: JSON.parse(String(i.record)) as AuditRecord,
});

const toCheckpoint = (i: Item): Checkpoint => ({
  chain: String(i.chain),
  seq: Number(i.seq),
  headHash: String(i.headHash),
  time: String(i.time),
  signature: String(i.signature),
  keyId: String(i.keyId),
});

/**
 * Audit chains in the regional AuditTable (pk/sk). Per chain: `CHAIN#<chain>` / `SEQ#<seq>` entries, a
 * `CHAIN#<chain>` / `HEAD` copy of the newest entry (head() is one GetItem), and `EVENT#<chain>#<eventId>`
 * copies (findByEventId is one GetItem); `CHAINS` / `<chain>` lists the chains; checkpoints sit under
 * `CKPT#<chain>` / `SEQ#<seq>`. append is one TransactWriteItems (≤ 100 items, 4 MB; each item ≤ 400 KB)
 * of: the entry (attribute_not_exists), the head (its previous seq and hash must be the entry's
 * predecessor) and the event index (attribute_not_exists). So a taken seq, a stale head, a gap or an
 * event id already in the chain all fail as ConflictError, and nothing is half-written.
 */
export function createDynamoAuditStore(doc: DynamoDBDocumentClient, tableName: string): AuditStore {
  const get = async (key: Item) =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

  /** Every item of a Query: a page stops at 1 MB read (or at Limit), LastEvaluatedKey resumes it. */
  async function query(input: Omit<QueryCommandInput, "TableName">): Promise<Item[]> {
    const items: Item[] = [];
    let start: QueryCommandInput["ExclusiveStartKey"];
    do {
      const page = await doc.send(
        new QueryCommand({ ...input, TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  return {
    async head(chain) {
      const item = await get({ pk: chainPk(chain), sk: HEAD });
      return item ? toEntry(item) : undefined;
    },

    async findByEventId(chain, eventId) {
      const item = await get(eventKey(chain, eventId));
      // The key joins chain and event id with '#': check the chain, in case both hold one.
      return item && item.chain === chain ? toEntry(item) : undefined;
    },

    async append(e) {
      if (e.record.chain !== e.chain)
        throw new Error(`Entry of chain ${e.chain} holds a record of ${e.record.chain}`);
      const attrs = entryAttrs(e);
      const absent = { ConditionExpression: "attribute_not_exists(pk)" };
      const headCondition =
        e.seq === 1
          ? absent
          : {
              ConditionExpression: "#seq = :prev AND #hash = :prevHash",
              ExpressionAttributeNames: { "#seq": "seq", "#hash": "hash" },
              ExpressionAttributeValues: { ":prev": e.seq - 1, ":prevHash": e.prevHash },
            };
      const items: NonNullable<TransactWriteCommandInput["TransactItems"]> = [
        {
          Put: {
            TableName: tableName,
            Item: { pk: chainPk(e.chain), sk: `SEQ#${pad(e.seq)}`, ...attrs },
            ...absent,
          },
        },
        {
          Put: { TableName: tableName, Item: { pk: chainPk(e.chain), sk: HEAD, ...attrs }, ...headCondition },
        },
        {
          Put: {
            TableName: tableName,
            Item: { ...eventKey(e.chain, e.record.eventId), ...attrs },
            ...absent,
          },
        },
      ];
      // A new chain registers itself in the chain list (idempotent: no condition).
      if (e.seq === 1) items.push({ Put: { TableName: tableName, Item: { pk: CHAINS, sk: e.chain } } });
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.includes("ConditionalCheckFailed"))
          throw new ConflictError(
            `Chain ${e.chain}: seq ${e.seq} is taken, the head moved, or event ${e.record.eventId} is already in it.`,
          );
        // Another transaction on the same items right now: a racing writer. The caller re-reads the head.
        if (codes?.includes("TransactionConflict"))
          throw new ConflictError(`Chain ${e.chain}: a concurrent append touched seq ${e.seq}.`);
        throw err;
      }
    },

    async putCheckpoint(c) {
      try {
        // With a check that the head is still the entry it signs, in one transaction (2 items).
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: tableName,
                  Key: { pk: chainPk(c.chain), sk: HEAD },
                  ConditionExpression: "#seq = :seq AND #hash = :hash",
                  ExpressionAttributeNames: { "#seq": "seq", "#hash": "hash" },
                  ExpressionAttributeValues: { ":seq": c.seq, ":hash": c.headHash },
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: { pk: `CKPT#${c.chain}`, sk: `SEQ#${pad(c.seq)}`, ...c },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
            ],
          }),
        );
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.[0] === "ConditionalCheckFailed")
          throw new ConflictError(`Chain ${c.chain}: the checkpoint signs seq ${c.seq}, the head has moved.`);
        if (codes?.includes("ConditionalCheckFailed"))
          throw new ConflictError(`Chain ${c.chain} already has a checkpoint at ${c.seq}.`);
        // An append racing it: the head is moving.
        if (codes?.includes("TransactionConflict"))
          throw new ConflictError(
            `Chain ${c.chain}: an append touched the head while seq ${c.seq} was signed.`,
          );
        throw err;
      }
    },

    async lastCheckpoint(chain) {
      const out = await doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `CKPT#${chain}` },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = out.Items?.[0];
      return item ? toCheckpoint(item) : undefined;
    },

    async entries(chain, from, to) {
      if (to < from) return [];
      const items = await query({
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":pk": chainPk(chain),
          ":from": `SEQ#${pad(Math.max(0, from))}`,
          ":to": `SEQ#${pad(Math.min(Number.MAX_SAFE_INTEGER, to))}`,
        },
      });
      return items.map(toEntry);
    },

    async checkpoints(chain, from = 1, to = Number.MAX_SAFE_INTEGER) {
      if (to < from) return [];
      const items = await query({
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":pk": `CKPT#${chain}`,
          ":from": `SEQ#${pad(Math.max(0, from))}`,
          ":to": `SEQ#${pad(Math.min(Number.MAX_SAFE_INTEGER, to))}`,
        },
      });
      return items.map(toCheckpoint);
    },

    async chains() {
      const items = await query({
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": CHAINS },
      });
      return items.map((i) => String(i.sk));
    },
  };
}
