import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parse.ts";
import { handleEvent } from "../../core/gateway/dispatch.ts";
import type { GatewayDeps } from "../../core/gateway/types.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { silentLog } from "../../core/log.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { createGatewayDeps } from "../../functions/shared/gateway-deps.ts";
import { seedStores } from "../../functions/shared/seed.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { type SqsEmulator, startSqsEmulator } from "../emulators/sqs.ts";
import { restEvent } from "./lambda-stream.ts";

/**
 * Hot reload across Lambda containers: the real admin Lambda entry (`functions/admin.ts`) writes to
 * DynamoDB Local, and two independent router wirings over the same tables (two containers, each with
 * its own client, registry cache and key cache) must serve the change within 2 s, without a restart.
 */
const API = "sk-gw-dynamo-api";
const ADMIN = "sk-gw-dynamo-admin";
const TABLES = { registry: "gw-admin-registry", keys: "gw-admin-keys", budgets: "gw-admin-budgets" };
const PROPAGATION_MS = 2_000;

let ddb: DynamoDbLocal;
let sqs!: SqsEmulator;
const clients: DynamoDBDocumentClient[] = [];
const routers: Array<{ deps: GatewayDeps; close(): Promise<void> }> = [];
let adminHandler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** One router container: its own DynamoDB client and its own caches (TTL 1 s, as deployed). */
function container() {
  const doc = ddb.documentClient();
  clients.push(doc);
  const wired = createGatewayDeps({
    registry: createDynamoRegistryStore(doc, TABLES.registry),
    keys: createDynamoKeyStore(doc, TABLES.keys),
    env: {},
    region: "us-east-1",
    maxBodyBytes: 1024 * 1024,
    log: silentLog,
  });
  routers.push(wired);
  return wired.deps;
}

let a: GatewayDeps;
let b: GatewayDeps;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  await createTables(ddb.client(), [TABLES.registry, TABLES.keys, TABLES.budgets]);
  const doc = ddb.documentClient();
  clients.push(doc);
  const config = parseConfig({
    providers: [{ id: "mock", kind: "mock", models: ["echo"] }],
    models: [{ alias: "default", targets: [{ provider: "mock", model: "echo" }] }],
    orgs: [{ id: "acme" }],
  });
  await seedStores(
    createDynamoRegistryStore(doc, TABLES.registry),
    createDynamoKeyStore(doc, TABLES.keys),
    config,
    { GATEWAY_API_KEY: API, GATEWAY_ADMIN_KEY: ADMIN },
  );
  a = container();
  b = container();

  // What SST links into the admin function, pointed at the emulator.
  sqs = await startSqsEmulator();
  const auditQueueUrl = await sqs.createFifoQueue("gw-audit");
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    SST_RESOURCE_RegistryTable: JSON.stringify({ name: TABLES.registry }),
    SST_RESOURCE_AuditQueue: JSON.stringify({ url: auditQueueUrl }),
    SST_RESOURCE_AuditTable: JSON.stringify({ name: "gw-audit-unused" }),
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SST_RESOURCE_KeysTable: JSON.stringify({ name: TABLES.keys }),
    SST_RESOURCE_BudgetsTable: JSON.stringify({ name: TABLES.budgets }),
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
  adminHandler = (await import("../../functions/admin.ts")).handler;
}, 60_000);

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  for (const c of clients) c.destroy();
  await ddb?.dispose();
  await sqs?.stop();
});

const lambdaContext = { awsRequestId: "admin-req", functionName: "admin" } as Context;

async function admin(method: string, path: string, body?: unknown) {
  const res = await adminHandler(restEvent(path, body, method, ADMIN), lambdaContext);
  return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
}

/** A non-streaming completion through one container's request path. */
async function chat(deps: GatewayDeps, model: string, key = API) {
  const event = restEvent(
    "/v1/chat/completions",
    { model, messages: [{ role: "user", content: "hi" }] },
    "POST",
    key,
  );
  const res = await handleEvent(event, deps);
  return { status: res.statusCode, provider: res.headers["x-gateway-provider"] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timeUntil(probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 5_000) {
    if (await probe()) return performance.now() - started;
    await sleep(25);
  }
  throw new Error("the change never reached the other container");
}

describe("admin changes reach every router container within 2 s (DynamoDB)", () => {
  it("serves an alias created through the admin Lambda on both containers", async () => {
    // Both containers have cached the registry before the change.
    expect([(await chat(a, "default")).status, (await chat(b, "default")).status]).toEqual([200, 200]);
    expect((await chat(b, "hot")).status).toBe(404);
    expect((await admin("POST", "/admin/providers", { id: "mock2", kind: "mock" })).status).toBe(201);
    const alias = { alias: "hot", targets: [{ provider: "mock2", model: "echo" }] };
    expect((await admin("POST", "/admin/models", alias)).status).toBe(201);
    for (const deps of [b, a]) {
      const took = await timeUntil(async () => (await chat(deps, "hot")).provider === "mock2");
      expect(took).toBeLessThan(PROPAGATION_MS);
    }
  });

  it("moves the other container's requests to a PUT's new target", async () => {
    expect((await chat(b, "hot")).provider).toBe("mock2");
    const put = await admin("PUT", "/admin/models/hot", { targets: [{ provider: "mock", model: "echo" }] });
    expect(put.status).toBe(200);
    const took = await timeUntil(async () => (await chat(b, "hot")).provider === "mock");
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it("revokes a key on the other container within 2 s; a new key works there at once", async () => {
    const created = await admin("POST", "/admin/keys", { id: "temp", org: "acme" });
    expect(created.status).toBe(201);
    const secret = String(created.json.key);
    expect((await chat(b, "default", secret)).status).toBe(200); // now cached in container b
    expect((await admin("DELETE", "/admin/keys/temp")).status).toBe(204);
    const took = await timeUntil(async () => (await chat(b, "default", secret)).status === 401);
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it("changes nothing on an invalid change, and refuses to delete a provider in use", async () => {
    const registry = createDynamoRegistryStore(clients[0]!, TABLES.registry);
    const version = await registry.version();
    const bad = await admin("POST", "/admin/models", {
      alias: "x",
      targets: [{ provider: "nope", model: "m" }],
    });
    expect([bad.status, (bad.json.error as { param: string }).param]).toEqual([400, "targets[0].provider"]);
    const inUse = await admin("DELETE", "/admin/providers/mock");
    expect([inUse.status, (inUse.json.error as { code: string }).code]).toEqual([409, "conflict"]);
    expect(await registry.version()).toBe(version);
  });
});
