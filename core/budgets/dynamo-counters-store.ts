import { type CreateTableCommandInput, QueryCommand, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  NumberValue,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { counterStorageKey } from "./counters.ts";
import { decimalNanos } from "./money.ts";
import type { CounterRef } from "./port.ts";

/**
 * Item layout of the DynamoDB budget store: per counter, one item per region
 * (`ORG#acme` / `SPEND#2026-11#eu-west-1`, attribute `spentUsd`), and one `RES#<requestId>` / `RES` item per
 * reservation holding what it reserved on which counters. Amounts are integer nano-dollars in code
 * (money.ts); DynamoDB numbers are exact decimals, so `spentUsd` holds USD and sums of nano-dollar
 * amounts stay exact there too.
 */
export type TxItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** TransactWriteItems takes at most 100 items: the counters plus the reservation item. */
export const MAX_TX_ITEMS = 100;
/** Rounds of re-read and retry on TransactionConflict / a counter moving under us, before giving up. */
export const MAX_ATTEMPTS = 25;
/** Reservations outlive any request by far; DynamoDB TTL (`expiresAt`, epoch seconds) then drops them. */
export const RESERVATION_TTL_S = 7 * 24 * 3600;

/**
 * A sparse global secondary index of reservations still open: a reservation made for a known request
 * (`reservedFor`) carries `openShard` and `openAt` (epoch ms) until it is settled, which removes them, so
 * the index holds only open ones and a sweep reads nothing else (reservation-sweep.ts). The stacks
 * declare the same index (stacks/storage.ts) and the emulator tables mirror it (OPEN_INDEX_DEFINITION).
 */
export const OPEN_INDEX = "OpenReservations";
/**
 * Shards per region of the index's partition key: every reservation and settlement writes the index,
 * and one partition key takes at most 1 000 write units a second (DynamoDB's per-partition limit), which
 * a busy region's budgeted traffic could pass; a sweep queries each shard.
 */
export const OPEN_SHARDS = 16;

/**
 * The index as CreateTable declares it, beside GATEWAY_TABLE_KEY (storage/dynamo-tables.ts): the emulator
 * tables get it (test/emulators/dynamodb-local.ts), and stacks/storage.ts declares the same.
 */
export const OPEN_INDEX_DEFINITION: Required<
  Pick<CreateTableCommandInput, "AttributeDefinitions" | "GlobalSecondaryIndexes">
> = {
  AttributeDefinitions: [
    { AttributeName: "openShard", AttributeType: "S" },
    { AttributeName: "openAt", AttributeType: "N" },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: OPEN_INDEX,
      KeySchema: [
        { AttributeName: "openShard", KeyType: "HASH" },
        { AttributeName: "openAt", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    },
  ],
};

/** The index partition of a reservation: its region's, one of OPEN_SHARDS picked by its id's hash. */
export function openShardOf(region: string, reservationId: string): string {
  // FNV-1a: spreads ids that share a prefix (top-ups, `<id>.billed-1`) as well as random ones.
  let h = 0x811c9dc5;
  for (let i = 0; i < reservationId.length; i++) h = Math.imul(h ^ reservationId.charCodeAt(i), 0x01000193);
  return openShardKey(region, (h >>> 0) % OPEN_SHARDS);
}

export const openShardKey = (region: string, shard: number) => `OPEN#${region}#${shard}`;

export const counterPk = (c: Pick<CounterRef, "scope" | "id">) => `${c.scope.toUpperCase()}#${c.id}`;
export const counterKey = (c: Pick<CounterRef, "scope" | "id" | "periodKey" | "epoch">, region: string) => ({
  pk: counterPk(c),
  sk: `SPEND#${counterStorageKey(c)}#${region}`,
});
export const resKey = (requestId: string) => ({ pk: `RES#${requestId}`, sk: "RES" });
/** A counter's seed item (CounterSeed): one per counter, whichever region writes it first. */
export const SEED_REGION = "~seed";

/** Reservation items written before nano-dollars hold `amountMicros` instead (money.ts `storedNanos`). */
export interface Reserved {
  scope: CounterRef["scope"];
  id: string;
  periodKey: string;
  amountNanos: number;
  amountMicros?: number;
}

/** Another region's item of a counter (or its seed), as read: its key and its stored value, exactly. */
export interface Peer {
  key: { pk: string; sk: string };
  /**
   * The stored decimal as DynamoDB holds it, for a `spentUsd = :seen` check: as a double it would differ
   * from the item past $8 388 608 (2^23 dollars, where a double no longer holds every nano-dollar), and
   * the check would fail on every try.
   */
  spentUsd: NumberValue;
}

/**
 * This region's and all other regions' spend of one counter, nano-dollars (Query, ConsistentRead), and
 * how many items it has (none: the counter's first reservation, which seeds it). A seed item
 * (`SPEND#<period>#~seed`) counts among the others. Read with the low-level Query, whose numbers stay
 * the decimal text DynamoDB sent (the document client's would be doubles).
 */
export async function readCounter(
  doc: DynamoDBDocumentClient,
  tableName: string,
  region: string,
  c: CounterRef,
): Promise<{ own: number; others: number; items: number; peers: Peer[] }> {
  const ownSk = counterKey(c, region).sk;
  let own = 0;
  let others = 0;
  let items = 0;
  const peers: Peer[] = [];
  // One item per region: a single page in practice, but a Query page stops at 1 MB, so follow it.
  let start: QueryCommandInput["ExclusiveStartKey"];
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: {
          ":pk": { S: counterPk(c) },
          ":prefix": { S: `SPEND#${counterStorageKey(c)}#` },
        },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      items += 1;
      const stored = item.spentUsd?.N ?? "0";
      const m = decimalNanos(stored);
      if (item.sk?.S === ownSk) own += m;
      else {
        others += m;
        peers.push({
          key: { pk: item.pk?.S ?? "", sk: item.sk?.S ?? "" },
          spentUsd: NumberValue.from(stored),
        });
      }
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return { own, others, items, peers };
}
