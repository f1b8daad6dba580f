import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { backoff, scanPages } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { ConflictError } from "../storage/errors.ts";
import { dynamoKeyAdminOps } from "./dynamo-admin.ts";
import {
  absent,
  hashItem,
  hashKey,
  idKey,
  MAX_PUT_ATTEMPTS,
  SK,
  type TxItem,
  toRecord,
} from "./dynamo-items.ts";
import type { ApiKeyRecord, KeyStore } from "./port.ts";

/**
 * API keys in one DynamoDB table as two items per key: `HASH#<sha256>` holds the record (the router's
 * single GetItem) and `ID#<id>` holds the current hash, so uniqueness of both is enforced by conditional
 * puts inside one TransactWriteItems (well under its 100-item limit).
 */
export function createDynamoKeyStore(doc: DynamoDBDocumentClient, tableName: string): KeyStore {
  const transact = (items: TxItem[]) => doc.send(new TransactWriteCommand({ TransactItems: items }));

  return {
    ...dynamoKeyAdminOps(doc, tableName),

    async findBySha256(sha256) {
      // Strongly consistent: a key created through this region works on its very next request (found
      // keys are cached per container, so the doubled read cost falls mostly on wrong keys). A key
      // created in the other region is visible here only after global-table replication (~1 s).
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: hashKey(sha256), ConsistentRead: true }),
      );
      return out.Item ? toRecord(out.Item) : undefined;
    },

    async create(r) {
      const items: TxItem[] = [
        { Put: { TableName: tableName, Item: hashItem(r), ...absent } },
        {
          Put: {
            TableName: tableName,
            Item: { ...idKey(r.id), sha256: r.sha256, createdAt: r.createdAt },
            ...absent,
          },
        },
      ];
      const retry = retryJudge();
      for (let attempt = 0; ; attempt++) {
        try {
          await transact(items);
          return;
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes?.includes("ConditionalCheckFailed"))
            throw new ConflictError("An API key with this id or hash already exists.");
          // TransactionConflict: another transaction holds one of the items; it may be a racing create
          // of the same key, which the next round will report as a conflict.
          if (!retry(codes) || attempt + 1 >= MAX_PUT_ATTEMPTS) throw err;
          await backoff(attempt);
        }
      }
    },

    async put(r) {
      const retry = retryJudge();
      for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(attempt);
        // Strongly consistent: this read is the "before" of a compare-and-swap.
        const cur = (
          await doc.send(new GetCommand({ TableName: tableName, Key: idKey(r.id), ConsistentRead: true }))
        ).Item;
        const prev = typeof cur?.sha256 === "string" ? cur.sha256 : undefined;
        // Like the SQLite upsert, replacing a key keeps its original creation time.
        const createdAt = typeof cur?.createdAt === "string" ? cur.createdAt : r.createdAt;
        const items: TxItem[] = [
          {
            Put: {
              TableName: tableName,
              Item: { ...idKey(r.id), sha256: r.sha256, createdAt },
              ...(prev === undefined
                ? absent
                : { ConditionExpression: "sha256 = :prev", ExpressionAttributeValues: { ":prev": prev } }),
            },
          },
          {
            Put: {
              TableName: tableName,
              Item: hashItem({ ...r, createdAt }),
              ConditionExpression: "attribute_not_exists(pk) OR id = :id",
              ExpressionAttributeValues: { ":id": r.id },
            },
          },
        ];
        // The old hash must stop authenticating in the same transaction that installs the new one.
        if (prev !== undefined && prev !== r.sha256)
          items.push({ Delete: { TableName: tableName, Key: hashKey(prev) } });
        try {
          await transact(items);
          return;
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes === undefined) throw err;
          if (codes[1] === "ConditionalCheckFailed")
            throw new ConflictError("This API key hash already belongs to another key id.");
          // The ID# condition failed or another transaction touched our items: a racing writer on this
          // id. Re-read and try again; anything else (throttling, validation) is not ours to absorb.
          const racing = codes[0] === "ConditionalCheckFailed" || codes.includes("TransactionConflict");
          if (!racing && !retry(codes)) throw err;
        }
      }
      throw new ConflictError(`API key ${r.id} kept changing under concurrent updates; try again.`);
    },

    async update(r, previous) {
      if (r.sha256 !== previous.sha256) return false;
      // The record item is rewritten only while it is there, for this id, with the settings the edit
      // read; the id item, while it still names this hash, is written too (not only checked): across
      // regions both items then share one last-writer-wins fate, never a record without its id.
      const edit = settingsUpdate(r, previous);
      try {
        await transact([
          {
            Update: {
              TableName: tableName,
              Key: hashKey(r.sha256),
              UpdateExpression: edit.update,
              ConditionExpression: `attribute_exists(pk) AND id = :id AND ${edit.condition}`,
              ExpressionAttributeNames: edit.names,
              ExpressionAttributeValues: { ...edit.values, ":id": r.id },
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: idKey(r.id),
              UpdateExpression: "SET editedAt = :at",
              ConditionExpression: "sha256 = :sha",
              ExpressionAttributeValues: { ":sha": r.sha256, ":at": new Date().toISOString() },
            },
          },
        ]);
        return true;
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.includes("ConditionalCheckFailed")) return false;
        // Another writer held the key's items at that moment: as a key changed meanwhile, for the edit to
        // read it again and merge into it (key-edit.ts), after a pause to let that writer finish.
        if (codes?.includes("TransactionConflict")) {
          await backoff(1);
          return false;
        }
        throw err;
      }
    },

    async count(role) {
      let n = 0;
      // Select COUNT still reads every item: a page ends at 1 MB scanned before the filter applies.
      for await (const page of scanPages(doc, {
        TableName: tableName,
        Select: "COUNT",
        ConsistentRead: true,
        FilterExpression: `begins_with(pk, :hash) AND sk = :sk${role ? " AND #role = :role" : ""}`,
        ExpressionAttributeValues: { ":hash": "HASH#", ":sk": SK, ...(role ? { ":role": role } : {}) },
        ...(role ? { ExpressionAttributeNames: { "#role": "role" } } : {}),
      }))
        n += page.count;
      return n;
    },
  };
}

/**
 * A key's settings set to `r`'s (each one set, or removed when it has none), on the condition that they
 * are still `was`'s (each equal, or absent).
 */
function settingsUpdate(r: ApiKeyRecord, was: ApiKeyRecord) {
  const settings = (k: ApiKeyRecord) => ({
    name: k.name,
    models: k.models,
    budgets: k.budgets,
    rateLimits: k.rateLimits,
  });
  const next = Object.entries(settings(r));
  const before = Object.entries(settings(was));
  const set = next.filter(([, v]) => v !== undefined);
  const unset = next.filter(([, v]) => v === undefined);
  return {
    update: [
      set.length > 0 ? `SET ${set.map(([k]) => `#${k} = :${k}`).join(", ")}` : "",
      unset.length > 0 ? `REMOVE ${unset.map(([k]) => `#${k}`).join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" "),
    condition: before
      .map(([k, v]) => (v === undefined ? `attribute_not_exists(#${k})` : `#${k} = :was_${k}`))
      .join(" AND "),
    // `name` is one of DynamoDB's reserved words: every field goes by a placeholder.
    names: Object.fromEntries(next.map(([k]) => [`#${k}`, k])),
    values: {
      ...Object.fromEntries(set.map(([k, v]) => [`:${k}`, v])),
      ...Object.fromEntries(before.filter(([, v]) => v !== undefined).map(([k, v]) => [`:was_${k}`, v])),
    },
  };
}
