import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterFor } from "../../core/budgets/counters.ts";
import { createDynamoBudgetStore } from "../../core/budgets/dynamo-store.ts";
import { parseConfig } from "../../core/config/parse.ts";
import { awaitPending } from "../../core/gateway/complete.ts";
import { handleEvent } from "../../core/gateway/dispatch.ts";
import type { GatewayDeps } from "../../core/gateway/types.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { silentLog } from "../../core/log.ts";
import { createDynamoRateLimitStore } from "../../core/ratelimit/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { createGatewayDeps } from "../../functions/shared/gateway-deps.ts";
import { seedStores } from "../../functions/shared/seed.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { restEvent } from "./lambda-stream.ts";

/**
 * The hard budget on DynamoDB (Local): two router containers, each with its own client, share one
 * budgets table. The built-in mock answers "Echo: spend" (2 output tokens), priced by override at
 * $1 000 per 1M output tokens, with max_tokens 2: a request costs exactly its $0.002 reservation.
 */
const KEY = "sk-gw-budget-dynamo";
const TABLES = { registry: "gw-budget-registry", keys: "gw-budget-keys", budgets: "gw-budget-budgets" };
const COST = 0.002;
let ddb: DynamoDbLocal;
const containers: Array<{ deps: GatewayDeps; close(): Promise<void> }> = [];

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  await createTables(ddb.client(), Object.values(TABLES));
  const seedDoc = ddb.documentClient();
  const config = parseConfig({
    providers: [
      {
        id: "mock",
        kind: "mock",
        models: ["echo"],
        prices: { echo: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      },
    ],
    orgs: [{ id: "capped", budgets: [{ period: "day", limitUsd: 50 * COST }] }],
  });
  await seedStores(
    createDynamoRegistryStore(seedDoc, TABLES.registry),
    createDynamoKeyStore(seedDoc, TABLES.keys),
    config,
    { GATEWAY_API_KEY: KEY },
  );
  for (let i = 0; i < 2; i++) {
    const doc = ddb.documentClient();
    containers.push(
      createGatewayDeps({
        registry: createDynamoRegistryStore(doc, TABLES.registry),
        keys: createDynamoKeyStore(doc, TABLES.keys),
        budgets: createDynamoBudgetStore(doc, TABLES.budgets, "us-east-1"),
        rateLimits: createDynamoRateLimitStore(doc, TABLES.budgets),
        env: {},
        region: "us-east-1",
        maxBodyBytes: 1024 * 1024,
        log: silentLog,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(containers.map((c) => c.close()));
  await ddb?.dispose();
});

/** One invocation, as the Lambda runs it: the response, its body consumed, then the pending accounting. */
async function invoke(deps: GatewayDeps, stream: boolean) {
  const event: APIGatewayProxyEvent = restEvent(
    "/v1/chat/completions",
    { model: "mock/echo", stream, max_tokens: 2, messages: [{ role: "user", content: "spend" }] },
    "POST",
    KEY,
  );
  // API Gateway gives every invocation its own request id; reservations are idempotent per id.
  event.requestContext = { ...event.requestContext, requestId: randomUUID() };
  const res = await handleEvent(event, deps);
  let text = "";
  if (typeof res.body === "string") text = res.body;
  else for await (const chunk of res.body as Readable) text += String(chunk);
  await awaitPending(event);
  return { status: res.statusCode, text };
}

describe("hard budget on DynamoDB under concurrency", () => {
  it("lets exactly 50 of 200 concurrent requests through two containers, and the counter ends at the limit", async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => invoke(containers[i % 2]!.deps, i % 4 < 2)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(50);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(429);
      expect(JSON.parse(r.text).error.code).toBe("budget_exceeded");
    }
    // The budget's counter: its day's, and the time it was added (counters.ts), as stored.
    const registry = createDynamoRegistryStore(ddb.documentClient(), TABLES.registry);
    const budget = (await registry.load()).orgs.get("capped")?.budgets?.[0];
    const counter = counterFor("org", "capped", budget!, Date.now());
    expect(counter.epoch).toBe(budget?.since);
    const spent = await createDynamoBudgetStore(ddb.documentClient(), TABLES.budgets, "us-east-1").spent(
      counter,
    );
    expect(spent).toBeCloseTo(50 * COST, 9);
    expect(spent).toBeLessThanOrEqual(50 * COST + 1e-9);
  }, 60_000);
});
