import {
  type DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  PutCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { backoff } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { StoreBusyError } from "../storage/errors.ts";
import { counterStorageKey } from "./counters.ts";
import {
  counterKey,
  MAX_ATTEMPTS,
  MAX_TX_ITEMS,
  openShardOf,
  RESERVATION_TTL_S,
  type Reserved,
  readCounter,
  resKey,
  SEED_REGION,
  type TxItem,
} from "./dynamo-counters-store.ts";
import { limitNanos, nanos, reserveNanos, storedNanos, usdOf as usd, usdDecimal } from "./money.ts";
import type {
  BudgetStore,
  CounterRef,
  CounterSeed,
  ReservedFor,
  ReserveItem,
  ReserveResult,
} from "./port.ts";

/**
 * Counter amounts go to DynamoDB as exact decimals: past $8 388 608 a double misses nano-dollars, and
 * the counter's condition would compare against a neighbour of the limit.
 */
const exact = (nanoDollars: number): NumberValue => NumberValue.from(usdDecimal(nanoDollars));

/**
 * BudgetStore over one DynamoDB (global) table. Each region owns one counter item per counter
 * (`ORG#acme` / `SPEND#2026-11#eu-west-1`): concurrent ADDs to one item from two regions would lose
 * increments under last-writer-wins replication, so a region writes only its own items and enforcement
 * sums all of them. Reservation: read every region's items (Query, ConsistentRead), then one
 * TransactWriteItems of conditional ADDs (`spentUsd <= limit - others - amount`) plus a `RES#<requestId>`
 * put (attribute_not_exists) that makes the reserve idempotent and remembers what to settle.
 *
 * Overshoot bound: ConsistentRead is strong only for this region's writes; other regions' items arrive by
 * replication (typically ≤ 1-2 s). Spend reserved elsewhere during that lag is unseen, so the total can
 * exceed the limit by at most (replication lag × other regions' reservation rate). Within one region the
 * limit is exact.
 */
export function createDynamoBudgetStore(
  doc: DynamoDBDocumentClient,
  tableName: string,
  region: string,
  seed?: CounterSeed,
  /**
   * The other regions writing this table's counters (global-table replicas). A reservation checks that
   * each one's item is as it read it, absent included: a region's first reservation of a period would
   * otherwise land unchecked between another's read and its commit.
   */
  peerRegions: readonly string[] = [],
): BudgetStore {
  const reserved = async (requestId: string): Promise<boolean> =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: resKey(requestId), ConsistentRead: true })))
      .Item !== undefined;

  const transact = (items: TxItem[]) => doc.send(new TransactWriteCommand({ TransactItems: items }));

  return {
    async reserve(
      requestId: string,
      items: ReserveItem[],
      reservedFor?: ReservedFor,
    ): Promise<ReserveResult> {
      if (items.length + 1 > MAX_TX_ITEMS)
        throw new Error(`A reservation holds at most ${MAX_TX_ITEMS - 1} counters.`);
      const record: Reserved[] = items.map(({ counter: c, amountUsd }) => ({
        scope: c.scope,
        id: c.id,
        // The storage key (counters.ts): settlement writes where the reservation did.
        periodKey: counterStorageKey(c),
        amountNanos: reserveNanos(amountUsd),
      }));
      const retry = retryJudge();
      // The period's earlier spend, read when a counter was found without items: this reservation's to
      // seed it with on every try while no seed is there, though another first reservation (which
      // found none) committed in between without one.
      const looked = new Map<number, number>();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(Math.min(attempt, 6));
        const reads = await Promise.all(items.map((i) => readCounter(doc, tableName, region, i.counter)));
        const tx: TxItem[] = [];
        for (const [n, { counter, limitUsd }] of items.entries()) {
          const read = reads[n] ?? { own: 0, others: 0, items: 0, peers: [] };
          const { own } = read;
          let { others } = read;
          // The counter's first reservation seeds it with the period's earlier spend. The put is
          // conditional, so of two first reservations one commits it and the other is cancelled, re-reads,
          // and finds it.
          const seeding = read.items === 0 && seed !== undefined;
          if (seeding && !looked.has(n)) looked.set(n, nanos(await seed(counter)));
          const seedKey = counterKey(counter, SEED_REGION);
          const seedThere = read.peers.some((p) => p.key.sk === seedKey.sk);
          const seeded = seedThere ? 0 : (looked.get(n) ?? 0);
          const seedPut =
            seeded > 0
              ? {
                  TableName: tableName,
                  Item: { ...seedKey, spentUsd: exact(seeded) },
                  ConditionExpression: "attribute_not_exists(pk)",
                }
              : undefined;
          if (seedPut) {
            others += seeded;
            tx.push({ Put: seedPut });
          } else if (seeding) {
            // Found no earlier spend: so must the transaction. Spend counted since the look would
            // otherwise be seeded by a reservation committing first, and this one pass it unchecked.
            tx.push({
              ConditionCheck: {
                TableName: tableName,
                Key: seedKey,
                ConditionExpression: "attribute_not_exists(pk)",
              },
            });
          }
          const amount = record[n]?.amountNanos ?? 0;
          // The transaction's condition, checked against what was just read: refuse without a write.
          const maxBefore = limitNanos(limitUsd) - others - amount;
          if (own > maxBefore) {
            // A retried reserve whose first attempt went through must still answer ok.
            if (await reserved(requestId)) return { ok: true };
            // Refused, but what the period spent before stays known: the next reservation would not
            // look again (the counter has items).
            if (seedPut) await doc.send(new PutCommand(seedPut)).catch(() => undefined);
            return { ok: false, counter, spentUsd: usd(own + others), limitUsd };
          }
          tx.push({
            Update: {
              TableName: tableName,
              Key: counterKey(counter, region),
              UpdateExpression: "ADD spentUsd :amount",
              ConditionExpression: "attribute_not_exists(spentUsd) OR spentUsd <= :maxBefore",
              ExpressionAttributeValues: { ":amount": exact(amount), ":maxBefore": exact(maxBefore) },
            },
          });
          // The other regions' items as read: one that moved before this commits (a replicated write
          // landing, or a region sharing the table) cancels the transaction, which re-reads. Without
          // this, spend landing between the read and the commit would go unchecked: the overshoot bound
          // counts replication lag alone.
          for (const peer of read.peers) {
            if (tx.length >= MAX_TX_ITEMS - 1) break;
            tx.push({
              ConditionCheck: {
                TableName: tableName,
                Key: peer.key,
                ConditionExpression: "spentUsd = :seen",
                ExpressionAttributeValues: { ":seen": peer.spentUsd },
              },
            });
          }
          for (const other of peerRegions) {
            const key = counterKey(counter, other);
            if (other === region || read.peers.some((p) => p.key.sk === key.sk)) continue;
            if (tx.length >= MAX_TX_ITEMS - 1) break;
            tx.push({
              ConditionCheck: {
                TableName: tableName,
                Key: key,
                ConditionExpression: "attribute_not_exists(pk)",
              },
            });
          }
        }
        tx.push({
          Put: {
            TableName: tableName,
            Item: {
              ...resKey(requestId),
              counters: record,
              region,
              settled: false,
              expiresAt: Math.floor(Date.now() / 1000) + RESERVATION_TTL_S,
              // Whose it is, and its place in the open-reservations index until settled: a router that
              // dies before settling leaves it there for the sweep to charge (reservation-sweep.ts).
              // Aged from its request's start, not its own: a top-up reserved minutes later turns as old
              // as its request in the same sweep, and is charged with it in one usage event.
              ...(reservedFor
                ? { reservedFor, openShard: openShardOf(region, requestId), openAt: reservedFor.startedAt }
                : {}),
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        });
        try {
          await transact(tx);
          return { ok: true };
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes === undefined) throw err;
          // The reservation item is the transaction's last: its condition failing means a retry of ours won.
          if (codes.at(-1) === "ConditionalCheckFailed") return { ok: true };
          // The condition reads the item's current value, so racing reserves in this region only fail it
          // once the counter is really full; re-read, and the up-front check then reports the refusal.
          // A conflict or throttling (retryJudge) is retried; anything else is not ours.
          if (!codes.includes("ConditionalCheckFailed") && !retry(codes)) throw err;
        }
      }
      // Transient (other writers on the same counters): the caller is told to retry (503), not that it failed.
      throw new StoreBusyError(`Budget reservation ${requestId} kept conflicting; try again.`);
    },

    async settle(requestId: string, actualUsd: number): Promise<void> {
      const actual = nanos(actualUsd);
      const retry = retryJudge();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(Math.min(attempt, 6));
        const item = (
          await doc.send(
            new GetCommand({ TableName: tableName, Key: resKey(requestId), ConsistentRead: true }),
          )
        ).Item;
        if (!item || item.settled === true) return;
        const tx: TxItem[] = [
          {
            Update: {
              TableName: tableName,
              Key: resKey(requestId),
              UpdateExpression: "SET settled = :t, actualUsd = :actual REMOVE openShard, openAt",
              ConditionExpression: "attribute_exists(pk) AND settled = :f",
              ExpressionAttributeValues: { ":t": true, ":f": false, ":actual": usd(actual) },
            },
          },
        ];
        // The correction goes to this region's item of each counter (a region writes only its own items);
        // the sum over regions is what enforcement reads, so it lands correctly wherever it is written.
        for (const r of (item.counters ?? []) as Reserved[]) {
          const reservedNanos = storedNanos(r);
          if (actual === reservedNanos) continue;
          tx.push({
            Update: {
              TableName: tableName,
              Key: counterKey(r, region),
              UpdateExpression: "ADD spentUsd :delta",
              ExpressionAttributeValues: { ":delta": exact(actual - reservedNanos) },
            },
          });
        }
        try {
          await transact(tx);
          return;
        } catch (err) {
          const codes = cancellationCodes(err);
          // A racing settle of the same request won: the redelivery is a no-op.
          if (codes?.[0] === "ConditionalCheckFailed") return;
          if (!retry(codes)) throw err;
        }
      }
      throw new Error(`Budget settlement ${requestId} kept conflicting; try again.`);
    },

    async spent(counter: CounterRef): Promise<number> {
      const { own, others } = await readCounter(doc, tableName, region, counter);
      return usd(own + others);
    },
  };
}
