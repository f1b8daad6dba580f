import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { UsageDetail } from "../events/usage.ts";
import { backoff, queryPages } from "../storage/dynamo-batch.ts";
import { cancellationCodes, retryJudge } from "../storage/dynamo-errors.ts";
import { nanos, usdOf } from "./money.ts";
import { type PeriodSum, sumUsage } from "./rollup-sums.ts";
import { dynamoSpendQuery, NAMES } from "./spend-dynamo-query-store.ts";
import { CLAIM_LEASE_MS, type SpendStore, type SpendStoreOptions } from "./spend-port.ts";

/** Processed-event markers outlive EventBridge's 24 h of retries and a DLQ redrive; TTL then drops them. */
const USAGE_TTL_S = 35 * 24 * 3600;
/**
 * A threshold claim outlives its period (a month at most) and the redeliveries of that period's events
 * after it (as long as USAGE_TTL_S keeps them from counting twice); TTL then drops it, rather than keep
 * three items per budget per day for ever.
 */
const CLAIM_TTL_S = 31 * 24 * 3600 + USAGE_TTL_S;
/** Transaction rounds under TransactionConflict (a concurrent event on the same rollup) before giving up. */
const MAX_ATTEMPTS = 25;
/**
 * A period total of one region: both regions' aggregators ADDing to one item would lose increments
 * (global tables: last writer wins per item), so each writes its own, and readers sum them. Items
 * written before regions were in the key have the bare period as their sort key, and still count.
 */
const periodPk = (scope: "org" | "key", id: string) => `PERIOD#${scope.toUpperCase()}#${id}`;
const periodKey = (scope: "org" | "key", id: string, period: string, region: string) => ({
  pk: periodPk(scope, id),
  sk: `${period}#${region}`,
});

const thresholdKey = (key: string) => ({ pk: `THRESHOLD#${key}`, sk: "THRESHOLD" });

export interface DynamoSpendStoreOptions extends SpendStoreOptions {
  /** Items per Query/Scan page (default: DynamoDB's 1 MB pages); tests lower it to exercise paging. */
  pageSize?: number | undefined;
  /**
   * Where threshold claims are taken: the one replica every region's aggregator claims in (default:
   * this client and table). A conditional write is atomic only within the replica it is written to;
   * two regions claiming in their own replicas could each win before replication showed either the
   * other's claim (global tables: last writer wins), and both would publish the alert.
   */
  claims?: { doc: DynamoDBDocumentClient; tableName: string } | undefined;
}

/**
 * SpendStore over one DynamoDB table. `record` is one TransactWriteItems (6 of its 100 items, one more
 * per other target that billed a failed attempt): a
 * `USAGE#<requestId>` put conditioned on attribute_not_exists (the idempotency claim), an ADD to each
 * rollup item `ROLLUP#<org>#<day>` / `<keyId>#<provider>#<model>#<region>`, and ADDs to the period
 * totals `PERIOD#ORG#<org>` and `PERIOD#KEY#<keyId>` under sk `<day>#<region>` and `<month>#<region>`
 * (the event's region: each region's aggregator writes its own items, readers sum them). A redelivery fails the
 * claim and the whole transaction with it, so nothing is counted twice.
 * `query`: see dynamoSpendQuery (a Query per org per day, or a filtered Scan without an org).
 */
export function createDynamoSpendStore(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: DynamoSpendStoreOptions = {},
): SpendStore {
  const claimLeaseMs = options.claimLeaseMs ?? CLAIM_LEASE_MS;
  const claims = options.claims ?? { doc, tableName };
  /** Sends a conditional write on the claims' replica: false when its condition failed. */
  const conditional = async (command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> => {
    try {
      await claims.doc.send(command as PutCommand);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  };

  return {
    async record(u: UsageDetail): Promise<boolean> {
      // One event: a rollup row for the target that served it and one for each other target that billed
      // a failed attempt (bounded by the alias's targets, well inside a transaction's 100 items), and
      // four period totals (org and key, day and month).
      const { rollups, periods } = sumUsage([u]);
      const addCost = (p: PeriodSum) => ({
        Update: {
          TableName: tableName,
          Key: periodKey(p.scope, p.id, p.periodKey, u.region),
          UpdateExpression: "ADD costUsd :cost",
          ExpressionAttributeValues: { ":cost": usdOf(p.costNanos) },
        },
      });
      const tx = [
        {
          Put: {
            TableName: tableName,
            Item: {
              pk: `USAGE#${u.requestId}`,
              sk: "USAGE",
              expiresAt: Math.floor(Date.parse(u.time) / 1000) + USAGE_TTL_S,
              // What the counted event settles its reservations to (settlementsOf).
              ...(u.settlements ? { settlements: u.settlements } : {}),
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        ...rollups.map((r) => ({
          Update: {
            TableName: tableName,
            // One row per region, for the reason period totals are (periodKey); the query merges them.
            Key: { pk: `ROLLUP#${r.org}#${r.day}`, sk: `${r.keyId}#${r.provider}#${r.model}#${u.region}` },
            UpdateExpression:
              "ADD requests :one, inputTokens :in, outputTokens :out, costUsd :cost " +
              "SET #day = :day, #org = :org, #key = :key, #provider = :provider, #model = :model",
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: {
              ":one": r.requests,
              ":in": r.inputTokens,
              ":out": r.outputTokens,
              ":cost": usdOf(r.costNanos),
              ":day": r.day,
              ":org": r.org,
              ":key": r.keyId,
              ":provider": r.provider,
              ":model": r.model,
            },
          },
        })),
        ...periods.map(addCost),
      ];
      const retry = retryJudge();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(Math.min(attempt, 6));
        try {
          await doc.send(new TransactWriteCommand({ TransactItems: tx }));
          return true;
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes?.[0] === "ConditionalCheckFailed") return false;
          // A concurrent event for the same rollup (or a racing redelivery) held an item: try again; a
          // redelivery then finds its claim taken. Throttling too is worth another try.
          if (!retry(codes)) throw err;
        }
      }
      throw new Error(`Usage ${u.requestId} kept conflicting; try again.`);
    },

    async settlementsOf(requestId: string): Promise<UsageDetail["settlements"]> {
      const item = (
        await doc.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: `USAGE#${requestId}`, sk: "USAGE" },
            ConsistentRead: true,
          }),
        )
      ).Item;
      return Array.isArray(item?.settlements) ? (item.settlements as UsageDetail["settlements"]) : undefined;
    },

    query: dynamoSpendQuery(doc, tableName, options.pageSize),

    async periodSpend(scope: "org" | "key", id: string, period: string): Promise<number> {
      // The period's items of every region (`<period>#<region>`, and a bare `<period>` from before).
      // A month's prefix also matches its days (`2026-11-26…`): those are told apart by the next character.
      let total = 0;
      for await (const items of queryPages(doc, {
        TableName: tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :period)",
        ExpressionAttributeValues: { ":pk": periodPk(scope, id), ":period": period },
        ConsistentRead: true,
      })) {
        for (const item of items) {
          const sk = String(item.sk);
          if (sk === period || sk.startsWith(`${period}#`)) total += nanos(Number(item.costUsd ?? 0));
        }
      }
      return usdOf(total);
    },

    async markThreshold(key: string, owner: string): Promise<boolean> {
      // Its owner takes an unpublished claim again once the lease has run out (a redelivery), and the
      // SDK's own retry of this very put (its answer lost) at any time: it carries this call's token.
      // A copy of the event processed meanwhile is another call, with another token: refused.
      const now = Date.now();
      const token = randomUUID();
      return conditional(
        new PutCommand({
          TableName: claims.tableName,
          Item: {
            ...thresholdKey(key),
            owner,
            token,
            claimedAt: now,
            expiresAt: Math.floor(now / 1000) + CLAIM_TTL_S,
          },
          ConditionExpression:
            "attribute_not_exists(pk) OR (#owner = :owner AND attribute_not_exists(published) AND " +
            "(#token = :token OR attribute_not_exists(claimedAt) OR claimedAt <= :stale))",
          ExpressionAttributeNames: { "#owner": "owner", "#token": "token" },
          ExpressionAttributeValues: { ":owner": owner, ":token": token, ":stale": now - claimLeaseMs },
        }),
      );
    },

    async thresholdPublished(key: string, owner: string): Promise<void> {
      await conditional(
        new UpdateCommand({
          TableName: claims.tableName,
          Key: thresholdKey(key),
          UpdateExpression: "SET published = :yes",
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": owner, ":yes": true },
        }),
      );
    },

    async hasThreshold(key: string): Promise<boolean> {
      const out = await claims.doc.send(
        new GetCommand({ TableName: claims.tableName, Key: thresholdKey(key), ConsistentRead: true }),
      );
      return out.Item !== undefined;
    },

    async releaseThreshold(key: string, owner: string): Promise<void> {
      await conditional(
        new DeleteCommand({
          TableName: claims.tableName,
          Key: thresholdKey(key),
          ConditionExpression: "#owner = :owner AND attribute_not_exists(published)",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": owner },
        }),
      );
    },
  };
}
