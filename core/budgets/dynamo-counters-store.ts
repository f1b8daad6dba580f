import type { DynamoDBDocumentClient, TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { queryPages } from "../storage/dynamo-batch.ts";
import { counterStorageKey } from "./counters.ts";
import { nanos } from "./money.ts";
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

/**
 * This region's and all other regions' spend of one counter, nano-dollars (Query, ConsistentRead), and
 * how many items it has (none: the counter's first reservation, which seeds it). A seed item
 * (`SPEND#<period>#~seed`) counts among the others.
 */
/** Another region's item of a counter (or its seed), as read: its key and its stored value. */
export interface Peer {
  key: { pk: unknown; sk: unknown };
  spentUsd: unknown;
}

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
  for await (const page of queryPages(doc, {
    TableName: tableName,
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": counterPk(c), ":prefix": `SPEND#${counterStorageKey(c)}#` },
    ConsistentRead: true,
  })) {
    for (const item of page) {
      items += 1;
      const m = nanos(Number(item.spentUsd ?? 0));
      if (item.sk === ownSk) own += m;
      else {
        others += m;
        peers.push({ key: { pk: item.pk, sk: item.sk }, spentUsd: item.spentUsd });
      }
    }
  }
  return { own, others, items, peers };
}
