import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import type { UsageDetail } from "../events/usage.ts";
import { backoff } from "../storage/dynamo-batch.ts";
import { cancellationCodes } from "../storage/dynamo-errors.ts";
import { nanos, usdOf } from "./money.ts";
import { type PeriodSum, sumUsage } from "./rollup-sums.ts";
import { dynamoSpendQuery, NAMES } from "./spend-dynamo-query-store.ts";
import type { SpendStore } from "./spend-port.ts";

/** Processed-event markers outlive EventBridge's 24 h of retries and a DLQ redrive; TTL then drops them. */
const USAGE_TTL_S = 35 * 24 * 3600;
/** Transaction rounds under TransactionConflict (a concurrent event on the same rollup) before giving up. */
const MAX_ATTEMPTS = 25;
const periodKey = (scope: "org" | "key", id: string, period: string) => ({
  pk: `PERIOD#${scope.toUpperCase()}#${id}`,
  sk: period,
});

export interface DynamoSpendStoreOptions {
  /** Items per Query/Scan page (default: DynamoDB's 1 MB pages); tests lower it to exercise paging. */
  pageSize?: number | undefined;
}

/**
 * SpendStore over one DynamoDB table. `record` is one TransactWriteItems (6 of its 100 items): a
 * `USAGE#<requestId>` put conditioned on attribute_not_exists (the idempotency claim), an ADD to the
 * rollup item `ROLLUP#<org>#<day>` / `<keyId>#<provider>#<model>`, and ADDs to the period totals
 * `PERIOD#ORG#<org>` and `PERIOD#KEY#<keyId>` under sk `<day>` and `<month>`. A redelivery fails the
 * claim and the whole transaction with it, so nothing is counted twice.
 * `query`: see dynamoSpendQuery (a Query per org per day, or a filtered Scan without an org).
 */
export function createDynamoSpendStore(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: DynamoSpendStoreOptions = {},
): SpendStore {
  return {
    async record(u: UsageDetail): Promise<boolean> {
      // One event: one rollup row and four period totals (org and key, day and month).
      const { rollups, periods } = sumUsage([u]);
      const r = rollups[0]!;
      const addCost = (p: PeriodSum) => ({
        Update: {
          TableName: tableName,
          Key: periodKey(p.scope, p.id, p.periodKey),
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
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: { pk: `ROLLUP#${r.org}#${r.day}`, sk: `${r.keyId}#${r.provider}#${r.model}` },
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
        },
        ...periods.map(addCost),
      ];
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(Math.min(attempt, 6));
        try {
          await doc.send(new TransactWriteCommand({ TransactItems: tx }));
          return true;
        } catch (err) {
          const codes = cancellationCodes(err);
          if (codes?.[0] === "ConditionalCheckFailed") return false;
          // A concurrent event for the same rollup (or a racing redelivery) held an item: try again; a
          // redelivery then finds its claim taken.
          if (!codes?.includes("TransactionConflict")) throw err;
        }
      }
      throw new Error(`Usage ${u.requestId} kept conflicting; try again.`);
    },

    query: dynamoSpendQuery(doc, tableName, options.pageSize),

    async periodSpend(scope: "org" | "key", id: string, period: string): Promise<number> {
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: periodKey(scope, id, period), ConsistentRead: true }),
      );
      return usdOf(nanos(Number(out.Item?.costUsd ?? 0)));
    },

    async markThreshold(key: string): Promise<boolean> {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: `THRESHOLD#${key}`, sk: "THRESHOLD" },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },

    async hasThreshold(key: string): Promise<boolean> {
      const out = await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: `THRESHOLD#${key}`, sk: "THRESHOLD" },
          ConsistentRead: true,
        }),
      );
      return out.Item !== undefined;
    },

    async releaseThreshold(key: string): Promise<void> {
      await doc.send(
        new DeleteCommand({ TableName: tableName, Key: { pk: `THRESHOLD#${key}`, sk: "THRESHOLD" } }),
      );
    },
  };
}
