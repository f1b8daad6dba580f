import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { counterFor } from "../../core/budgets/counters.ts";
import { createDynamoOpenReservations } from "../../core/budgets/dynamo-open-reservations.ts";
import { createDynamoBudgetStore } from "../../core/budgets/dynamo-store.ts";
import type { ReserveItem } from "../../core/budgets/port.ts";
import { ORPHANED_AFTER_MS } from "../../core/budgets/reservation-sweep.ts";
import { createDynamoSpendStore } from "../../core/budgets/spend-dynamo-store.ts";
import type { UsageDetail } from "../../core/events/usage.ts";
import type { DynamoDbLocal } from "../emulators/dynamodb-local.ts";
import type { EventBridgeEmulator, RecordedEvent } from "../emulators/eventbridge.ts";
import { type SqsEmulator, startSqsEmulator } from "../emulators/sqs.ts";
import { reservedFor } from "../fixtures/reserved-for.ts";
import { usage as usageOf } from "../fixtures/usage.ts";
import { type BudgetLambdaStage, stageBudgetLambdas } from "./lambda-env.ts";

/**
 * The real reservation sweeper Lambda (`functions/reservation-sweeper.ts`) and the real cost aggregator
 * Lambda, imported with the environment SST links in, over DynamoDB (Local) and EventBridge (emulator):
 * reservations a router left open are charged through the same path a router's own usage takes.
 */
const TABLES = { registry: "gw-sweep-registry", keys: "gw-sweep-keys", budgets: "gw-sweep-budgets" };
const BUDGET = { period: "day" as const, limitUsd: 100 };

let ddb: DynamoDbLocal;
let eventBridge!: EventBridgeEmulator;
let sweep: () => Promise<{ charged: number }>;
let aggregate: (event: unknown) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

let stage: BudgetLambdaStage | undefined;
let sqs: SqsEmulator | undefined;
let auditQueueUrl = "";
beforeAll(async () => {
  // acme is sensitive: the requests the sweep charges go to its audit chain first.
  stage = await stageBudgetLambdas(TABLES, BUDGET, { sensitive: true });
  ({ ddb, eventBridge } = stage);
  sqs = await startSqsEmulator();
  auditQueueUrl = await sqs.createFifoQueue("gw-sweep-audit");
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SST_RESOURCE_AuditQueue: JSON.stringify({ url: auditQueueUrl }),
  });
  sweep = (await import("../../functions/reservation-sweeper.ts")).handler;
  aggregate = (await import("../../functions/cost-aggregator.ts")).handler;
}, 60_000);

afterEach(() => {
  vi.useRealTimers();
  eventBridge.reset();
});

afterAll(async () => {
  await stage?.stop();
  await sqs?.stop();
});

const budgets = () => createDynamoBudgetStore(ddb.documentClient(), TABLES.budgets, "us-east-1");

/**
 * What a request's key budget counter moved by since `before` (its reading when the test began), and
 * what the spend report says the key spent that period: the two the sweep must keep equal.
 */
async function counterAndReport(requestId: string, at: number, before: number) {
  const counter = (await budgets().spent(item(at, 0).counter)) - before;
  const report = await createDynamoSpendStore(ddb.documentClient(), TABLES.budgets).periodSpend(
    "key",
    `acme/k-${requestId}`,
    item(at, 0).counter.periodKey,
  );
  return { counter, report };
}

const item = (at: number, usd: number): ReserveItem => ({
  counter: counterFor("org", "acme", BUDGET, at),
  amountUsd: usd,
  limitUsd: BUDGET.limitUsd,
});

/**
 * Reserves as a router does, its clock set `agoMs` back, for a request that started then (or at
 * `startedAt`: a top-up is reserved after its request started).
 */
async function reserveAgo(
  id: string,
  usd: number,
  agoMs: number,
  owner = id.split(".")[0]!,
  startedAt?: number,
): Promise<number> {
  const at = Date.now() - agoMs;
  const started = startedAt ?? at;
  vi.useFakeTimers({ toFake: ["Date"], now: at });
  try {
    await budgets().reserve(id, [item(started, usd)], reservedFor(owner, started, { keyId: `k-${owner}` }));
  } finally {
    vi.useRealTimers();
  }
  return started;
}

/** What the UsageQueue hands the aggregator: the recorded events as EventBridge envelopes. */
async function deliver(events: RecordedEvent[]): Promise<void> {
  const Records = events.map((e, i) => ({
    messageId: `m${i}`,
    body: JSON.stringify({
      version: "0",
      id: e.eventId,
      "detail-type": e.detailType,
      source: e.source,
      account: "000000000000",
      time: e.time,
      region: "us-east-1",
      resources: [],
      detail: e.detail,
    }),
  }));
  expect((await aggregate({ Records })).batchItemFailures).toEqual([]);
}

/**
 * How long ago the tests' orphans were reserved. A counter reading taken to compare with one is taken
 * at that time too: in the first minutes of a UTC day, now's counter is another day's.
 */
const ORPHANED = ORPHANED_AFTER_MS + 60_000;

/** A reservation item written by hand, open in the index but not what a reservation writes. */
const putDamaged = (id: string, counters: unknown, openShard: string, openAt: number) =>
  ddb.documentClient().send(
    new PutCommand({
      TableName: TABLES.budgets,
      Item: {
        pk: `RES#${id}`,
        sk: "RES",
        counters,
        settled: false,
        reservedFor: { requestId: id },
        openShard,
        openAt,
      },
    }),
  );

/** What the router would have published, had it lived: the real cost, settling its reservation. */
const routerEvent = (requestId: string, at: number, usd: number): RecordedEvent => ({
  eventId: `late-${requestId}`,
  bus: "gateway-bus",
  source: "llm-gateway",
  detailType: "llm.usage",
  time: new Date(at).toISOString(),
  detail: {
    ...usageOf(requestId, {
      keyId: `k-${requestId}`,
      region: "us-east-1",
      costUsd: usd,
      time: new Date(at).toISOString(),
      settlements: [{ id: requestId, usd }],
    }),
  },
});

/** The audit records on the queue, by event id (FIFO: at most one per chain per receive). */
async function auditRecords(): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < 20; i++) {
    const got = await sqs!
      .client()
      .send(
        new ReceiveMessageCommand({ QueueUrl: auditQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
    for (const m of got.Messages ?? []) {
      const record = JSON.parse(m.Body ?? "{}") as Record<string, unknown>;
      found.set(String(record.eventId), record);
    }
    if ((got.Messages ?? []).length === 0) break;
  }
  return found;
}

describe("the reservation sweeper Lambda over DynamoDB and EventBridge", () => {
  it("records a sensitive org's request it charges in the org's audit chain, as the request's own record would be", async () => {
    const at = await reserveAgo("r-vault", 0.5, ORPHANED);
    expect((await sweep()).charged).toBeGreaterThanOrEqual(1);
    const record = (await auditRecords()).get("r-vault:request");
    expect(record).toMatchObject({
      chain: "acme",
      kind: "request",
      actor: "k-r-vault",
      time: new Date(at).toISOString(),
      data: {
        endpoint: "/v1/chat/completions",
        model: "smart",
        status: 500,
        errorCode: "interrupted",
        costUsd: 0.5,
      },
    });
    // Settled by the aggregator, so later sweeps leave it alone.
    await deliver(eventBridge.events.filter((e) => e.detailType === "llm.usage"));
  });

  it("charges a reservation its router never settled at what it reserved, and the aggregator closes it once", async () => {
    const at = await reserveAgo("r-orphan", 0.25, ORPHANED);
    const counter = item(at, 0).counter;
    const before = await budgets().spent(counter);

    // Two runs before the aggregator catches up publish the same request twice.
    expect(await sweep()).toEqual({ charged: 1 });
    expect(await sweep()).toEqual({ charged: 1 });
    const events = [...eventBridge.events];
    expect(events.map((e) => [e.detailType, e.detail.requestId, e.detail.interrupted])).toEqual([
      ["llm.usage", "r-orphan", true],
      ["llm.usage", "r-orphan", true],
    ]);
    expect(events[0]!.detail).toMatchObject({
      org: "acme",
      keyId: "k-r-orphan",
      costUsd: 0.25,
      status: 500,
      region: "us-east-1",
      settlements: [{ id: "r-orphan", usd: 0.25 }],
      time: new Date(at).toISOString(),
    });

    await deliver(events);
    // Counted once, at its reservation: the counter already held it and keeps it; the report agrees.
    expect(await budgets().spent(counter)).toBeCloseTo(before, 9);
    const spend = createDynamoSpendStore(ddb.documentClient(), TABLES.budgets);
    expect(await spend.periodSpend("key", "acme/k-r-orphan", counter.periodKey)).toBeCloseTo(0.25, 9);
    // Settled: the next run finds nothing.
    eventBridge.reset();
    expect(await sweep()).toEqual({ charged: 0 });
    expect(eventBridge.events).toEqual([]);
  }, 30_000);

  it("leaves settled, young and anonymous reservations alone", async () => {
    const store = budgets();
    const at = await reserveAgo("r-settled", 0.1, ORPHANED);
    await store.settle("r-settled", 0.04);
    await reserveAgo("r-young", 0.1, ORPHANED_AFTER_MS - 60_000);
    // Reserved without saying for whom (an older router): nothing to build its usage event from.
    await store.reserve("r-anonymous", [item(at, 0.1)]);
    expect(await sweep()).toEqual({ charged: 0 });
    const items =
      (await ddb.documentClient().send(new ScanCommand({ TableName: TABLES.budgets }))).Items ?? [];
    const res = (id: string) => items.find((i) => i.pk === `RES#${id}`)!;
    // A settlement takes the reservation out of the index; an anonymous one never enters it.
    expect(res("r-settled")).not.toHaveProperty("openShard");
    expect(res("r-young")).toHaveProperty("openShard");
    expect(res("r-anonymous")).not.toHaveProperty("openShard");
  }, 30_000);

  it("charges a request's top-ups with it, in one event, and finds orphans in every shard", async () => {
    // The top-up came 14 minutes into the request: 6 minutes short of the sweep's age on its own.
    const started = await reserveAgo("r-topped", 0.2, ORPHANED_AFTER_MS + 60_000);
    await reserveAgo("r-topped.billed-1", 0.05, ORPHANED_AFTER_MS - 13 * 60_000, "r-topped", started);
    const many = Array.from({ length: 40 }, (_, n) => `r-many-${n}`);
    for (const id of many) await reserveAgo(id, 0.001, ORPHANED);

    expect(await sweep()).toEqual({ charged: 41 });
    const topped = eventBridge.events.find((e) => e.detail.requestId === "r-topped")!;
    expect(topped.detail.costUsd).toBe(0.25);
    expect(topped.detail.settlements).toHaveLength(2);
    expect(topped.detail.settlements).toEqual(
      expect.arrayContaining([
        { id: "r-topped", usd: 0.2 },
        { id: "r-topped.billed-1", usd: 0.05 },
      ]),
    );
    const shards = new Set(
      ((await ddb.documentClient().send(new ScanCommand({ TableName: TABLES.budgets }))).Items ?? [])
        .filter((i) => String(i.pk).startsWith("RES#r-many-"))
        .map((i) => i.openShard),
    );
    expect(shards.size).toBeGreaterThan(8);
    await deliver(eventBridge.events);
    eventBridge.reset();
    expect(await sweep()).toEqual({ charged: 0 });
  }, 60_000);

  it("skips a damaged reservation, leaving it open, and charges the rest", async () => {
    await putDamaged("r-damaged", "not a list", "OPEN#us-east-1#3", Date.now() - ORPHANED);
    await reserveAgo("r-fine", 0.01, ORPHANED);
    expect(await sweep()).toEqual({ charged: 1 });
    expect(eventBridge.events.map((e) => e.detail.requestId)).toEqual(["r-fine"]);
    await deliver(eventBridge.events);
    eventBridge.reset();
    // Still open, and still skipped: a person has to look at it.
    expect(await sweep()).toEqual({ charged: 0 });
  }, 30_000);

  it("publishes nothing and fails when EventBridge refuses, and charges it all on the next run", async () => {
    await reserveAgo("r-retried", 0.02, ORPHANED);
    // Every attempt of the publisher's (8) fails.
    eventBridge.failEntries(8, "InternalFailure");
    await expect(sweep()).rejects.toThrow();
    expect(eventBridge.events).toEqual([]);
    eventBridge.reset();
    expect(await sweep()).toEqual({ charged: 1 });
    await deliver(eventBridge.events);
    eventBridge.reset();
    expect(await sweep()).toEqual({ charged: 0 });
  }, 60_000);
});

describe("the sweep's event and the router's own late one, for the same request", () => {
  it.each([
    ["the router's first", "late"],
    ["the sweep's first", "sweep"],
    ["both at once, in two invocations", "both"],
    ["the router's counted, its settling not yet made, when the sweep's arrives", "between"],
  ])(
    "leave counter and report agreeing, %s",
    async (_, order) => {
      const id = `r-race-${order}`;
      const before = await budgets().spent(item(Date.now() - ORPHANED, 0).counter);
      const at = await reserveAgo(id, 0.25, ORPHANED);
      expect(await sweep()).toEqual({ charged: 1 });
      const swept = eventBridge.events.filter((e) => e.detail.requestId === id).slice(0, 1);
      const late = [routerEvent(id, at, 0.05)];
      if (order === "late") await deliver(late).then(() => deliver(swept));
      else if (order === "sweep") await deliver(swept).then(() => deliver(late));
      else if (order === "both") await Promise.all([deliver(late), deliver(swept)]);
      else {
        // An aggregator that counted the router's event and stopped before settling its reservation.
        await createDynamoSpendStore(ddb.documentClient(), TABLES.budgets).record(
          late[0]!.detail as unknown as UsageDetail,
        );
        await deliver(swept);
      }

      const { counter, report } = await counterAndReport(id, at, before);
      expect([0.05, 0.25]).toContainEqual(Number(report.toFixed(9)));
      expect(counter).toBeCloseTo(report, 9);
      if (order === "late" || order === "between") expect(report).toBeCloseTo(0.05, 9);
      if (order === "sweep") expect(report).toBeCloseTo(0.25, 9);
    },
    30_000,
  );
});

describe("a request whose own reservation settled and whose top-up did not", () => {
  it("is charged what it settled to plus the open top-up, and the report then agrees with the counter", async () => {
    const before = await budgets().spent(item(Date.now() - ORPHANED, 0).counter);
    const at = await reserveAgo("r-half", 0.5, ORPHANED);
    await reserveAgo("r-half.billed-1", 0.3, ORPHANED, "r-half", at);
    // The router settled its own reservation, and its top-up's settle failed before it died.
    await budgets().settle("r-half", 0.04);
    expect(await sweep()).toEqual({ charged: 1 });
    const event = eventBridge.events.find((e) => e.detail.requestId === "r-half")!;
    expect(event.detail).toMatchObject({ costUsd: 0.34, settlements: [{ id: "r-half.billed-1", usd: 0.3 }] });
    await deliver([event]);
    const { counter, report } = await counterAndReport("r-half", at, before);
    expect(report).toBeCloseTo(0.34, 9);
    expect(counter).toBeCloseTo(report, 9);
    eventBridge.reset();
    expect(await sweep()).toEqual({ charged: 0 });
  }, 30_000);
});

describe("a reservation only the sweep's event names", () => {
  it("is settled to $0 when the router's own event was counted for the request, which priced none of it", async () => {
    const before = await budgets().spent(item(Date.now() - ORPHANED, 0).counter);
    const at = await reserveAgo("r-unknown-top-up", 0.2, ORPHANED);
    // A top-up whose reserve threw after DynamoDB wrote it: the router's event never named it.
    await reserveAgo("r-unknown-top-up.billed-1", 0.05, ORPHANED, "r-unknown-top-up", at);
    await deliver([routerEvent("r-unknown-top-up", at, 0.01)]);
    expect(await sweep()).toEqual({ charged: 1 });
    await deliver(eventBridge.events);
    eventBridge.reset();
    // Closed, so the sweep stops charging it, and counter and report hold the router's figure.
    expect(await sweep()).toEqual({ charged: 0 });
    const { counter, report } = await counterAndReport("r-unknown-top-up", at, before);
    expect(report).toBeCloseTo(0.01, 9);
    expect(counter).toBeCloseTo(report, 9);
  }, 30_000);
});

describe("the open-reservations index, read by the sweep", () => {
  const open = () => createDynamoOpenReservations(ddb.documentClient(), TABLES.budgets, "us-east-1");
  const cutoff = () => Date.now() - ORPHANED_AFTER_MS;

  it("hands out the oldest requests first, each whole with its top-ups, however small the cut", async () => {
    const older = await reserveAgo("r-older", 0.01, ORPHANED + 120_000);
    await reserveAgo("r-older.billed-1", 0.01, ORPHANED, "r-older", older);
    await reserveAgo("r-older.billed-2", 0.01, ORPHANED, "r-older", older);
    await reserveAgo("r-newer", 0.01, ORPHANED);
    const first = await open().before(cutoff(), 1);
    expect(first.map((r) => r.id).sort()).toEqual(["r-older", "r-older.billed-1", "r-older.billed-2"]);
    const both = await open().before(cutoff(), 2);
    expect(new Set(both.map((r) => r.reservedFor.requestId))).toEqual(new Set(["r-older", "r-newer"]));
    for (const r of both) await budgets().settle(r.id, r.amountUsd);
  }, 30_000);

  it("gives a damaged reservation no request's place", async () => {
    await putDamaged("r-broken", [], "OPEN#us-east-1#5", Date.now() - ORPHANED - 600_000);
    await reserveAgo("r-behind", 0.01, ORPHANED);
    const unreadable: string[] = [];
    const found = await open().before(cutoff(), 1, (id) => unreadable.push(id));
    expect(found.map((r) => r.id)).toEqual(["r-behind"]);
    expect(unreadable).toContain("r-broken");
    await budgets().settle("r-behind", 0.01);
  }, 30_000);
});
