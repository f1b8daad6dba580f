import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { queryPages } from "../storage/dynamo-batch.ts";
import { OPEN_INDEX, OPEN_SHARDS, openShardKey, resKey } from "./dynamo-counters-store.ts";
import type { UnsettledReservation } from "./port.ts";
import { unsettledOf } from "./unsettled.ts";

/** Reservations re-read at once (consistent GetItems in flight per sweep). */
const REREAD_AT_ONCE = 25;

export interface OpenReservations {
  /**
   * This region's reservations still open that were made before `cutoffMs` (epoch ms), oldest shard
   * order aside, at most `limit`. The index is eventually consistent, so each is re-read from the table
   * (ConsistentRead) and one settled meanwhile is left out. An item that does not hold what a reservation
   * writes goes to `unreadable` and is left as it is.
   */
  before(cutoffMs: number, limit: number, unreadable?: (id: string) => void): Promise<UnsettledReservation[]>;
}

/** The open-reservations index (dynamo-counters-store.ts OPEN_INDEX) of one region, read by its sweep. */
export function createDynamoOpenReservations(
  doc: DynamoDBDocumentClient,
  tableName: string,
  region: string,
): OpenReservations {
  const shard = async (n: number, cutoffMs: number, limit: number): Promise<string[]> => {
    const ids: string[] = [];
    for await (const page of queryPages(doc, {
      TableName: tableName,
      IndexName: OPEN_INDEX,
      KeyConditionExpression: "openShard = :shard AND openAt < :cutoff",
      ExpressionAttributeValues: { ":shard": openShardKey(region, n), ":cutoff": cutoffMs },
      ProjectionExpression: "pk",
    })) {
      for (const item of page) if (typeof item.pk === "string") ids.push(item.pk.slice("RES#".length));
      if (ids.length >= limit) break;
    }
    return ids;
  };

  const reread = async (id: string, unreadable?: (id: string) => void) => {
    const item = (
      await doc.send(new GetCommand({ TableName: tableName, Key: resKey(id), ConsistentRead: true }))
    ).Item;
    if (item?.settled !== false) return undefined;
    const open = unsettledOf(id, item.counters, item.reservedFor);
    if (!open) unreadable?.(id);
    return open;
  };

  return {
    async before(cutoffMs, limit, unreadable) {
      const shards = await Promise.all(
        Array.from({ length: OPEN_SHARDS }, (_, n) => shard(n, cutoffMs, limit)),
      );
      const ids = shards.flat().slice(0, limit);
      const out: UnsettledReservation[] = [];
      for (let i = 0; i < ids.length; i += REREAD_AT_ONCE) {
        const read = await Promise.all(ids.slice(i, i + REREAD_AT_ONCE).map((id) => reread(id, unreadable)));
        for (const r of read) if (r) out.push(r);
      }
      return out;
    },
  };
}
