import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoBudgetStore } from "../../core/budgets/dynamo-store.ts";
import { createDynamoSpendStore } from "../../core/budgets/spend-dynamo-store.ts";
import type { UsageDetail } from "../../core/events/usage.ts";
import type { DynamoDbLocal } from "../emulators/dynamodb-local.ts";
import type { EventBridgeEmulator } from "../emulators/eventbridge.ts";
import { usage as usageOf } from "../fixtures/usage.ts";
import { type BudgetLambdaStage, stageBudgetLambdas } from "./lambda-env.ts";

/**
 * The real cost aggregator Lambda (`functions/cost-aggregator.ts`), imported with the environment SST
 * links in, over DynamoDB (Local) and EventBridge (emulator), invoked as the UsageQueue's event source
 * invokes it: batches of records whose bodies are EventBridge envelopes, a failed record again later.
 */
const TABLES = { registry: "gw-agg-registry", keys: "gw-agg-keys", budgets: "gw-agg-budgets" };

let ddb: DynamoDbLocal;
let eventBridge!: EventBridgeEmulator;
let handler: (
  event: unknown,
  context?: Context,
) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

let stage: BudgetLambdaStage | undefined;
beforeAll(async () => {
  stage = await stageBudgetLambdas(TABLES, { period: "day", limitUsd: 1 });
  ({ ddb, eventBridge } = stage);
  handler = (await import("../../functions/cost-aggregator.ts")).handler;
}, 60_000);

afterAll(() => stage?.stop());

const envelope = (detail: UsageDetail) => ({
  version: "0",
  id: `evt-${detail.requestId}`,
  "detail-type": "llm.usage",
  source: "llm-gateway",
  account: "000000000000",
  time: detail.time,
  region: "us-east-1",
  resources: [],
  detail,
});

/** Delivers envelopes in one batch, a record each; returns the message ids the handler reported failed. */
async function deliver(...bodies: unknown[]): Promise<string[]> {
  const Records = bodies.map((body, i) => ({
    messageId: `m${i}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
  }));
  return (await handler({ Records })).batchItemFailures.map((f) => f.itemIdentifier);
}

const alerts = () =>
  eventBridge.events.filter((e) => e.detailType === "budget.threshold").map((e) => e.detail.threshold);

describe("the cost aggregator Lambda over DynamoDB and EventBridge", () => {
  it("fires an alert EventBridge refused when the event is delivered again, once, counting the spend once", async () => {
    // Every attempt of the publisher's (8) fails: the invocation fails, so EventBridge invokes again.
    eventBridge.failEntries(8, "InternalFailure");
    const first = envelope(usageOf("r-alert", { costUsd: 0.6 }));
    expect(await deliver(first)).toEqual(["m0"]);
    expect(alerts()).toEqual([]);

    expect(await deliver(first)).toEqual([]);
    expect(alerts()).toEqual([50]);
    await deliver(first);
    await deliver(envelope(usageOf("r-next", { costUsd: 0.1 })));
    expect(alerts()).toEqual([50]);
    await deliver(envelope(usageOf("r-past-80", { costUsd: 0.2 })));
    expect(alerts()).toEqual([50, 80]);
    const spend = createDynamoSpendStore(ddb.documentClient(), TABLES.budgets);
    const day = usageOf("r-alert").time.slice(0, 10);
    expect(await spend.periodSpend("org", "acme", day)).toBeCloseTo(0.9, 9);
  }, 30_000);

  it("fires an alert once when two invocations handle copies of one usage event at the same time", async () => {
    // SQS delivers a message twice now and then, a router retries a PutEvents whose answer was lost, and
    // the sweep publishes its own event for a late request: copies of one request id, at once.
    const copy = envelope(usageOf("r-twice", { costUsd: 0.6, time: "2026-11-20T10:00:00.000Z" }));
    const before = alerts().length;
    expect(await Promise.all([deliver(copy), deliver(copy), deliver(copy)])).toEqual([[], [], []]);
    expect(alerts().slice(before)).toEqual([50]);
  });

  it("settles a reservation its router could not, from the usage event, once", async () => {
    const budgets = createDynamoBudgetStore(ddb.documentClient(), TABLES.budgets, "us-east-1");
    const counter = {
      scope: "key" as const,
      id: "acme/k-settle",
      period: "day" as const,
      periodKey: "2026-11-26",
    };
    await budgets.reserve("r-unsettled", [{ counter, amountUsd: 0.5, limitUsd: 10 }]);
    const event = envelope(
      usageOf("r-unsettled", {
        keyId: "k-settle",
        costUsd: 0.2,
        settlements: [{ id: "r-unsettled", usd: 0.2 }],
      }),
    );
    expect(await deliver(event, event)).toEqual([]);
    expect(await budgets.spent(counter)).toBeCloseTo(0.2, 9);
  });

  it("hands back, untried, the records that start with too little of the invocation left", async () => {
    // 60 s left at the first record, 20 s at the second: less than a record may take through an outage.
    const left = [60_000, 20_000];
    const context = { getRemainingTimeInMillis: () => left.shift() ?? 0 } as unknown as Context;
    const at = { org: "acme", keyId: "k-late", costUsd: 0.001 };
    const Records = [usageOf("r-early", at), usageOf("r-late", at)].map((u, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify(envelope(u)),
    }));
    const res = await handler({ Records }, context);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
    const spend = createDynamoSpendStore(ddb.documentClient(), TABLES.budgets);
    expect(await spend.periodSpend("key", "acme/k-late", usageOf("r-early").time.slice(0, 10))).toBeCloseTo(
      0.001,
      9,
    );
  });

  it("reports only the records it could not count, so the queue gives back only those", async () => {
    const good = envelope(usageOf("r-batch-good", { org: "acme", keyId: "k-batch", costUsd: 0.001 }));
    const failed = await deliver(
      "{not json",
      good,
      { ...good, source: "someone-else" },
      { ...good, id: "evt-misrouted", "detail-type": "budget.threshold" },
    );
    expect(failed).toEqual(["m0", "m2", "m3"]);
    const spend = createDynamoSpendStore(ddb.documentClient(), TABLES.budgets);
    expect(await spend.periodSpend("key", "acme/k-batch", good.time.slice(0, 10))).toBeCloseTo(0.001, 9);
  });

  it("keeps each region's totals and rollups in items of its own, and reads them summed", async () => {
    const at = { org: "acme", keyId: "k-regions", time: "2026-11-20T10:00:00.000Z" };
    await deliver(
      envelope(usageOf("r-us", { ...at, region: "us-east-1", costUsd: 0.01 })),
      envelope(usageOf("r-eu", { ...at, region: "eu-west-1", costUsd: 0.02 })),
    );
    const doc = ddb.documentClient();
    const items = await doc.send(
      new QueryCommand({
        TableName: TABLES.budgets,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": "PERIOD#KEY#acme/k-regions" },
      }),
    );
    // Global tables keep the last writer of an item: one item written by both regions loses ADDs.
    expect(items.Items?.map((i) => i.sk).sort()).toEqual([
      "2026-11#eu-west-1",
      "2026-11#us-east-1",
      "2026-11-20#eu-west-1",
      "2026-11-20#us-east-1",
    ]);
    const spend = createDynamoSpendStore(doc, TABLES.budgets);
    expect(await spend.periodSpend("key", "acme/k-regions", "2026-11")).toBeCloseTo(0.03, 9);
    expect(await spend.periodSpend("key", "acme/k-regions", "2026-11-20")).toBeCloseTo(0.03, 9);
    const rows = await spend.query({ org: "acme", keyId: "k-regions", from: "2026-11-20", to: "2026-11-20" });
    expect(rows).toEqual([expect.objectContaining({ requests: 2, costUsd: 0.03 })]);
  });
});
