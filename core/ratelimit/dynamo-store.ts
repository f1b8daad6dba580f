import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { backoff } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { StoreBusyError } from "../storage/errors.ts";
import { type RateBucket, type RateDecision, type RateLimitStore, WINDOW_MS, windowStart } from "./port.ts";

type TxItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** Rounds of a read-back that DynamoDB keeps throttling (UnprocessedKeys) before the headers go without it. */
const READ_ROUNDS = 3;
/** TransactWriteItems takes at most 100 items, BatchGetItem at most 100 keys: one call each per consume. */
const MAX_BUCKETS = 100;
const MAX_ATTEMPTS = 25;
/** Times a refusal is asked again when the read-back shows room (a correction landed meanwhile). */
const REASKS = 2;
/** DynamoDB TTL (`expiresAt`, epoch seconds) drops a window 2 minutes after it ends; TTL deletion is lazy
 * (up to days), which is harmless: a window's item is only ever read during that window. */
const TTL_GRACE_MS = 2 * WINDOW_MS;

const bucketKey = (name: string, start: number) => ({ pk: `RATE#${name}`, sk: String(start) });
const expiresAt = (start: number) => Math.ceil((start + WINDOW_MS + TTL_GRACE_MS) / 1000);
const remainingOf = (limit: number, used: number): number => Math.max(0, Math.min(limit, limit - used));

/**
 * RateLimitStore over one DynamoDB table: an item per bucket per fixed minute window (`RATE#<name>` /
 * `<windowStart>`, attribute `used`). `consume` is one TransactWriteItems of conditional ADDs
 * (`used <= limit - amount`), so it takes all buckets or none, and once: the SDK gives each call a
 * ClientRequestToken, so its retry of a commit whose answer was lost changes nothing. Remaining counts
 * are read back afterwards (a transaction returns no values) with one strongly consistent BatchGetItem.
 *
 * Global tables: two regions ADDing to one item concurrently lose increments (last writer wins), so a
 * bucket shared across regions is enforced exactly per region and only approximately in sum; callers
 * that need a per-region limit put the region in the bucket name.
 */
export function createDynamoRateLimitStore(doc: DynamoDBDocumentClient, tableName: string): RateLimitStore {
  const readUsed = async (names: string[], start: number): Promise<Map<string, number>> => {
    const used = new Map<string, number>();
    let keys: Record<string, unknown>[] = names.map((n) => bucketKey(n, start));
    for (let round = 0; keys.length > 0; round++) {
      // The counts only inform the headers: a table that keeps throttling the read is not waited out.
      if (round >= READ_ROUNDS) throw new Error(`DynamoDB kept throttling the read of ${tableName}.`);
      if (round > 0) await backoff(round);
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[tableName] ?? [])
        used.set(String(item.pk).slice("RATE#".length), Number(item.used ?? 0));
      // Throttled keys come back unprocessed and must be asked for again.
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
    return used;
  };

  /**
   * The decision with every bucket's remaining count. The read only informs the headers: when it
   * fails, the decision stands (a refusal is still a 429, never a 500), with what it knows: an
   * admitted request's own take, a refusing bucket used up.
   */
  const decide = async (buckets: RateBucket[], start: number, refusedBy?: string): Promise<RateDecision> => {
    const decision = { ok: refusedBy === undefined, refusedBy, resetAt: start + WINDOW_MS };
    try {
      const used = await readUsed(
        buckets.map((b) => b.name),
        start,
      );
      const remaining: Record<string, number> = {};
      for (const b of buckets) remaining[b.name] = remainingOf(b.limit, used.get(b.name) ?? 0);
      return { ...decision, remaining };
    } catch {
      const remaining: Record<string, number> = {};
      for (const b of buckets)
        remaining[b.name] =
          b.name === refusedBy ? 0 : remainingOf(b.limit, refusedBy === undefined ? b.amount : 0);
      return { ...decision, remaining };
    }
  };

  return {
    async consume(buckets: RateBucket[], now: number): Promise<RateDecision> {
      if (buckets.length > MAX_BUCKETS) throw new Error(`At most ${MAX_BUCKETS} buckets per consume.`);
      if (new Set(buckets.map((b) => b.name)).size !== buckets.length)
        throw new Error("Bucket names in one consume must be distinct (one transaction item each).");
      const start = windowStart(now);
      // A bucket that could never hold the amount is refused without a write.
      const tooBig = buckets.find((b) => b.amount > b.limit);
      if (tooBig) return decide(buckets, start, tooBig.name);
      const tx: TxItem[] = buckets.map((b) => ({
        Update: {
          TableName: tableName,
          Key: bucketKey(b.name, start),
          UpdateExpression: "ADD used :amount SET expiresAt = :exp",
          ConditionExpression: "attribute_not_exists(used) OR used <= :max",
          ExpressionAttributeValues: {
            ":amount": b.amount,
            ":max": b.limit - b.amount,
            ":exp": expiresAt(start),
          },
        },
      }));
      const retry = retryJudge();
      let asked = 0;
      let atOnce = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0 && !atOnce) await backoff(Math.min(attempt, 6));
        atOnce = false;
        try {
          await doc.send(new TransactWriteCommand({ TransactItems: tx }));
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes === undefined) throw err;
          const failed = codes.indexOf("ConditionalCheckFailed");
          if (failed >= 0) {
            const refusing = buckets[failed]!;
            const decision = await decide(buckets, start, refusing.name);
            // The count read back has room again: a correction landed between the refusal and the read
            // (an earlier request's tokens, corrected to its usage as its answer ended, which its
            // caller's next request can overtake on another instance). Asked again, at once.
            if ((decision.remaining[refusing.name] ?? 0) >= refusing.amount && asked < REASKS) {
              asked++;
              atOnce = true;
              continue;
            }
            // The headers describe the count that refused, not one a correction raised since.
            const left = Math.min(decision.remaining[refusing.name] ?? 0, refusing.amount - 1);
            return { ...decision, remaining: { ...decision.remaining, [refusing.name]: left } };
          }
          // Another transaction held one of the buckets, or a bucket throttled: nothing was taken, so
          // try again.
          if (!retry(codes)) throw err;
          continue;
        }
        // Taken. If the read-back fails, the request is still admitted (failing it would leave its take
        // counted for a request no provider saw), and its headers count its own take alone.
        return decide(buckets, start);
      }
      // Transient (other writers on the same buckets): the caller is told to retry (503), not that it failed.
      throw new StoreBusyError("Rate-limit buckets kept conflicting; try again.");
    },

    async adjust(bucketName: string, delta: number, start: number): Promise<void> {
      if (delta === 0) return;
      // Unconditional: a correction to actual usage may run past the limit (reads clamp remaining at 0).
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: bucketKey(bucketName, start),
          UpdateExpression: "ADD used :delta SET expiresAt = :exp",
          ExpressionAttributeValues: { ":delta": delta, ":exp": expiresAt(start) },
        }),
      );
    },
  };
}
