import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { backoff } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { ConflictError, NotFoundError, VersionChangedError } from "../storage/errors.ts";
import { entryKey, META, toEntry, toRegistryEntry } from "./dynamo-items.ts";
import {
  entryId,
  type RegistryDocs,
  type RegistryKind,
  type RegistryStore,
  type WriteGuard,
} from "./port.ts";

type TxItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/**
 * Every admin write contends for the one META item; a TransactionConflict is another writer holding it,
 * so it is retried with backoff. Past this many rounds the error surfaces (the caller answers 500).
 */
const MAX_ATTEMPTS = 8;

/**
 * Writes one entry and bumps the version in a single TransactWriteItems: both land or neither does, so a
 * reader that sees the new version always finds the entry, and a crash cannot leave a change that no
 * cache will ever reload. Returns false when the entry's own condition failed (exists / missing).
 */
async function writeWithBump(
  doc: DynamoDBDocumentClient,
  table: string,
  write: TxItem | undefined,
  guard: WriteGuard | undefined,
): Promise<boolean> {
  const bump: TxItem = {
    Update: {
      TableName: table,
      Key: META,
      UpdateExpression: "ADD #v :one",
      ExpressionAttributeNames: { "#v": "version" },
      ExpressionAttributeValues: { ":one": 1 },
      // A guarded write: the version still where its caller read it (absent reads as 0, readVersion).
      ...(guard && {
        ConditionExpression: guard.ifVersion === 0 ? "attribute_not_exists(#v) OR #v = :at" : "#v = :at",
        ExpressionAttributeValues: { ":one": 1, ":at": guard.ifVersion },
      }),
    },
  };
  const items = write ? [write, bump] : [bump];
  const retry = retryJudge();
  for (let attempt = 0; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (err) {
      const codes = cancellationCodes(err);
      // The version first: a moved registry means the caller's checks (and its own condition) are stale.
      if (codes?.[items.length - 1] === "ConditionalCheckFailed")
        throw new VersionChangedError(`The registry changed since version ${guard?.ifVersion}.`);
      if (codes?.[0] === "ConditionalCheckFailed") return false;
      if (!retry(codes) || attempt + 1 >= MAX_ATTEMPTS) throw err;
      await backoff(attempt);
    }
  }
}

/** The admin-facing half of the DynamoDB registry store: reads by kind/id and conditional writes. */
export function dynamoEntryOps(
  doc: DynamoDBDocumentClient,
  table: string,
): Pick<RegistryStore, "get" | "create" | "replace" | "remove" | "bump"> {
  const put = <K extends RegistryKind>(kind: K, value: RegistryDocs[K], condition: string): TxItem => {
    const id = entryId(kind, value);
    const item = {
      ...entryKey(kind, id),
      kind,
      id,
      doc: JSON.stringify(value),
      source: "admin",
      updatedAt: new Date().toISOString(),
    };
    return { Put: { TableName: table, Item: item, ConditionExpression: condition } };
  };

  return {
    async get(kind, id) {
      const out = await doc.send(
        new GetCommand({ TableName: table, Key: entryKey(kind, id), ConsistentRead: true }),
      );
      return out.Item ? toRegistryEntry(toEntry(out.Item, table)) : undefined;
    },

    async create(kind, value, guard) {
      // attribute_not_exists makes the id check and the insert one atomic step: of two admins racing to
      // create one id, exactly one transaction passes its condition.
      if (!(await writeWithBump(doc, table, put(kind, value, "attribute_not_exists(pk)"), guard)))
        throw new ConflictError(`A ${kind} '${entryId(kind, value)}' already exists.`);
    },

    async replace(kind, value, guard) {
      if (!(await writeWithBump(doc, table, put(kind, value, "attribute_exists(pk)"), guard)))
        throw new NotFoundError(`No ${kind} '${entryId(kind, value)}'.`);
    },

    remove(kind, id, guard) {
      return writeWithBump(
        doc,
        table,
        {
          Delete: { TableName: table, Key: entryKey(kind, id), ConditionExpression: "attribute_exists(pk)" },
        },
        guard,
      );
    },

    async bump(guard) {
      await writeWithBump(doc, table, undefined, guard);
    },
  };
}
