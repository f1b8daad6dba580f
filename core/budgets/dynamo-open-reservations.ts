import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { queryPages } from "../storage/dynamo-batch.ts";
import { OPEN_INDEX, OPEN_SHARDS, openShardKey, resKey } from "./dynamo-counters-store.ts";
import type { UnsettledReservation } from "./port.ts";
import { unsettledOf } from "./unsettled.ts";

/** Requests re-read at once (their consistent GetItems in flight per sweep). */
const REREAD_AT_ONCE = 25;
/** Top-ups read per request at most: one per billed attempt, which the alias's retries bound far below. */
const MAX_TOP_UPS = 100;

export interface OpenReservations {
  /**
   * This region's reservations still open whose requests started before `cutoffMs` (epoch ms), for at
   * most `maxRequests` requests, oldest first, each request with all its reservations (its top-ups,
   * `<id>.billed-N`, included: charged apart, a top-up's usage event would count nothing, its request id
   * being counted already). The index is eventually consistent, so each is re-read from the table
   * (ConsistentRead) and one settled meanwhile is left out. An item that does not hold what a
   * reservation writes goes to `unreadable`, is left as it is, and takes no request's place.
   */
  before(
    cutoffMs: number,
    maxRequests: number,
    unreadable?: (id: string) => void,
  ): Promise<UnsettledReservation[]>;
}

/** The request a reservation id belongs to: a top-up's id is its request's plus `.billed-N`. */
const requestOf = (reservationId: string) => reservationId.replace(/\.billed-\d+$/, "");

/** The open-reservations index (dynamo-counters-store.ts OPEN_INDEX) of one region, read by its sweep. */
export function createDynamoOpenReservations(
  doc: DynamoDBDocumentClient,
  tableName: string,
  region: string,
): OpenReservations {
  // Only reservations past the cutoff: those of requests no router still serves, a handful normally.
  const shard = async (n: number, cutoffMs: number) => {
    const found: Array<{ id: string; openAt: number }> = [];
    for await (const page of queryPages(doc, {
      TableName: tableName,
      IndexName: OPEN_INDEX,
      KeyConditionExpression: "openShard = :shard AND openAt < :cutoff",
      ExpressionAttributeValues: { ":shard": openShardKey(region, n), ":cutoff": cutoffMs },
      ProjectionExpression: "pk, openAt",
    })) {
      for (const item of page)
        if (typeof item.pk === "string")
          found.push({ id: item.pk.slice("RES#".length), openAt: Number(item.openAt) });
    }
    return found;
  };

  const get = async (id: string) =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: resKey(id), ConsistentRead: true }))).Item;

  /**
   * A request's reservations, re-read: its own and its top-ups (`.billed-1` on, numbered in order, read
   * until one past the highest the index named is missing). Those settled already come along at what they
   * settled to, marked `settled`: the request's usage event must cost them too, or an event of the sweep's
   * counted for the request would leave them on the counters and out of the report. None open: nothing.
   */
  const readRequest = async (r: { requestId: string; ids: string[] }, unreadable?: (id: string) => void) => {
    const highest = Math.max(0, ...r.ids.map((id) => Number(id.match(/\.billed-(\d+)$/)?.[1] ?? 0)));
    const open: UnsettledReservation[] = [];
    const settled: Array<{ id: string; usd: number }> = [];
    for (let k = 0; k <= MAX_TOP_UPS; k++) {
      const id = k === 0 ? r.requestId : `${r.requestId}.billed-${k}`;
      const item = await get(id);
      if (!item) {
        if (k >= highest) break;
        continue;
      }
      if (item.settled === false) {
        const row = unsettledOf(id, item.counters, item.reservedFor);
        if (row) open.push(row);
        else unreadable?.(id);
      } else if (typeof item.actualUsd === "number") settled.push({ id, usd: item.actualUsd });
    }
    const owner = open[0]?.reservedFor;
    if (!owner) return [];
    return [
      ...open,
      ...settled.map((s) => ({ id: s.id, amountUsd: s.usd, reservedFor: owner, settled: true })),
    ];
  };

  return {
    async before(cutoffMs, maxRequests, unreadable) {
      const found = (
        await Promise.all(Array.from({ length: OPEN_SHARDS }, (_, n) => shard(n, cutoffMs)))
      ).flat();
      // A request's reservations, wherever their ids hashed them, oldest request first: a backlog larger
      // than one run is worked off in age order, and the cut never falls inside a request.
      const requests = new Map<string, { requestId: string; ids: string[]; openAt: number }>();
      for (const { id, openAt } of found) {
        const requestId = requestOf(id);
        const r = requests.get(requestId) ?? { requestId, ids: [], openAt };
        r.ids.push(id);
        r.openAt = Math.min(r.openAt, openAt);
        requests.set(requestId, r);
      }
      const queue = [...requests.values()].sort((a, b) => a.openAt - b.openAt);
      const out: UnsettledReservation[] = [];
      let charged = 0;
      while (queue.length > 0 && charged < maxRequests) {
        const batch = queue.splice(0, Math.max(1, Math.min(maxRequests - charged, REREAD_AT_ONCE)));
        for (const rows of await Promise.all(batch.map((r) => readRequest(r, unreadable)))) {
          if (rows.length === 0) continue;
          out.push(...rows);
          charged += 1;
        }
      }
      return out;
    },
  };
}
