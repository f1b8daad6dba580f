import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { backoff, scanPages } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { ConflictError } from "../storage/errors.ts";
import { hashKey, idKey, MAX_PUT_ATTEMPTS, SK, toRecord } from "./dynamo-items.ts";
import type { ApiKeyRecord, KeyStore } from "./port.ts";

/** The admin API's reads and revocation over the two-item key layout (`HASH#` record, `ID#` pointer). */
export function dynamoKeyAdminOps(
  doc: DynamoDBDocumentClient,
  table: string,
): Pick<KeyStore, "list" | "get" | "remove"> {
  const currentHash = async (id: string): Promise<string | undefined> => {
    const item = (await doc.send(new GetCommand({ TableName: table, Key: idKey(id), ConsistentRead: true })))
      .Item;
    return typeof item?.sha256 === "string" ? item.sha256 : undefined;
  };

  return {
    async list() {
      const keys: ApiKeyRecord[] = [];
      // The HASH# items carry whole records; the ID# pointers would only repeat them.
      for await (const page of scanPages(doc, {
        TableName: table,
        ConsistentRead: true,
        FilterExpression: "begins_with(pk, :hash) AND sk = :sk",
        ExpressionAttributeValues: { ":hash": "HASH#", ":sk": SK },
      }))
        for (const item of page.items) keys.push(toRecord(item));
      return keys.sort((a, b) => (a.id < b.id ? -1 : 1));
    },

    async get(id) {
      // Two reads: a rotation between them leaves the pointer naming a hash that is gone or reused, so
      // re-read rather than return another key's record.
      for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
        const sha256 = await currentHash(id);
        if (sha256 === undefined) return undefined;
        const item = (
          await doc.send(new GetCommand({ TableName: table, Key: hashKey(sha256), ConsistentRead: true }))
        ).Item;
        if (item && item.id === id) return toRecord(item);
      }
      return undefined;
    },

    async remove(id) {
      const retry = retryJudge();
      for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const sha256 = await currentHash(id);
        if (sha256 === undefined) return false;
        try {
          // Both items in one transaction: the hash stops authenticating exactly when the id is freed.
          // The pointer's condition makes this a compare-and-delete against a racing rotation.
          await doc.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Delete: {
                    TableName: table,
                    Key: idKey(id),
                    ConditionExpression: "sha256 = :sha",
                    ExpressionAttributeValues: { ":sha": sha256 },
                  },
                },
                {
                  Delete: {
                    TableName: table,
                    Key: hashKey(sha256),
                    ConditionExpression: "attribute_not_exists(pk) OR id = :id",
                    ExpressionAttributeValues: { ":id": id },
                  },
                },
              ],
            }),
          );
          return true;
        } catch (err) {
          const codes = cancellationCodes(err);
          // A racing put or remove on this id moved the pointer: re-read and decide again.
          const racing = codes?.[0] === "ConditionalCheckFailed" || codes?.includes("TransactionConflict");
          if (!racing && !retry(codes)) throw err;
        }
      }
      throw new ConflictError(`API key ${id} kept changing under concurrent updates; try again.`);
    },
  };
}
