import type { Writable } from "node:stream";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parse.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { installLambdaRuntime, isStreaming } from "../../functions/local/lambda-runtime.ts";
import { seedStores } from "../../functions/shared/seed.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { type EventBridgeEmulator, startEventBridgeEmulator } from "../emulators/eventbridge.ts";
import { type SqsEmulator, startSqsEmulator } from "../emulators/sqs.ts";
import { type Simulator, startAnthropicSimulator, startOpenAISimulator } from "../simulators/index.ts";
import { CollectingStream, restEvent, unframe } from "./lambda-stream.ts";

/**
 * The real Lambda entry point (`functions/router-lambda.ts`), imported with the environment SST and the
 * Lambda runtime give it, wired to DynamoDB (Local) and invoked as a streaming REST integration invokes it.
 */
const KEY = "sk-gw-lambda-e2e";
const TABLES = { registry: "gw-lambda-registry", keys: "gw-lambda-keys", budgets: "gw-lambda-budgets" };

let ddb: DynamoDbLocal;
let sqs!: SqsEmulator;
let auditQueueUrl = "";
let openai: Simulator;
let anthropic: Simulator;
let eventBridge!: EventBridgeEmulator;
let handler: (event: unknown, stream: Writable, context: unknown) => Promise<void>;

beforeAll(async () => {
  [ddb, openai, anthropic, eventBridge] = await Promise.all([
    startDynamoDbLocal(),
    startOpenAISimulator(),
    startAnthropicSimulator(),
    startEventBridgeEmulator(),
  ]);
  await createTables(ddb.client(), [TABLES.registry, TABLES.keys, TABLES.budgets]);
  const doc = ddb.documentClient();
  const config = parseConfig({
    providers: [
      { id: "openai", kind: "openai", baseUrl: openai.url, apiKeyEnv: "OPENAI_API_KEY" },
      { id: "anthropic", kind: "anthropic", baseUrl: anthropic.url, apiKeyEnv: "ANTHROPIC_API_KEY" },
    ],
    models: [{ alias: "smart", targets: [{ provider: "anthropic", model: "claude-sim" }] }],
    orgs: [{ id: "acme" }],
  });
  await seedStores(
    createDynamoRegistryStore(doc, TABLES.registry),
    createDynamoKeyStore(doc, TABLES.keys),
    config,
    {
      GATEWAY_API_KEY: KEY,
    },
  );

  // What SST links and the Lambda runtime provide, pointed at the emulator.
  sqs = await startSqsEmulator();
  auditQueueUrl = await sqs.createFifoQueue("gw-audit");
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
    SST_RESOURCE_BudgetsTable: JSON.stringify({ name: TABLES.budgets }),
    SST_RESOURCE_Bus: JSON.stringify({ name: "gateway-bus" }),
    SST_RESOURCE_RegistryTable: JSON.stringify({ name: TABLES.registry }),
    SST_RESOURCE_AuditQueue: JSON.stringify({ url: auditQueueUrl }),
    SST_RESOURCE_AuditTable: JSON.stringify({ name: "gw-audit-unused" }),
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SST_RESOURCE_KeysTable: JSON.stringify({ name: TABLES.keys }),
    SST_RESOURCE_OpenaiApiKey: JSON.stringify({ value: "test-key" }),
    SST_RESOURCE_AnthropicApiKey: JSON.stringify({ value: "test-key" }),
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  installLambdaRuntime();
  const mod = await import("../../functions/router-lambda.ts");
  if (!isStreaming(mod.handler)) throw new Error("router-lambda does not export a streaming handler");
  handler = mod.handler;
}, 60_000);

afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close(), eventBridge?.stop()]);
  await ddb?.dispose();
  await sqs?.stop();
});

const chat = (body: Record<string, unknown>, key = KEY) =>
  restEvent(
    "/v1/chat/completions",
    { messages: [{ role: "user", content: "from lambda" }], ...body },
    "POST",
    key,
  );

describe("the router Lambda over DynamoDB, invoked as a streaming REST integration", () => {
  it("authenticates against the DynamoDB key store and frames a completion", async () => {
    const stream = new CollectingStream();
    await handler(chat({ model: "openai/gpt-sim" }), stream, {});
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers["x-gateway-provider"]).toBe("openai");
    expect(JSON.parse(body).choices[0].message.content).toBe("Echo: from lambda");
  });

  it("streams an alias from the DynamoDB registry through the Anthropic simulator", async () => {
    anthropic.enqueueScripts({ text: "streamed from the registry", usage: { input: 31, output: 9 } });
    const stream = new CollectingStream();
    await handler(
      chat({ model: "smart", stream: true, stream_options: { include_usage: true } }),
      stream,
      {},
    );
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.headers["content-type"]).toContain("text/event-stream");
    const events = body.split("\n\n").filter((e) => e.startsWith("data: ") && e !== "data: [DONE]");
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as OpenAI.Chat.Completions.ChatCompletionChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("streamed from the registry");
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 31, completion_tokens: 9 });
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    // The invocation ends only after its usage event is on the bus (middy's requestEnd awaits it).
    const usage = eventBridge.events.find((e) => e.detailType === "llm.usage" && e.detail.alias === "smart");
    expect(usage?.bus).toBe("gateway-bus");
    expect(usage?.detail).toMatchObject({
      tokens: { input: 31, output: 9 },
      provider: "anthropic",
      stream: true,
    });
  });

  it("names the audio part of a prompt in its usage event, as the provider counted it", async () => {
    openai.enqueueScripts({ usage: { input: 40, audio: 25, output: 3 } });
    await handler(chat({ model: "openai/gpt-sim", user: "with-audio" }), new CollectingStream(), {});
    const usage = eventBridge.events.find(
      (e) => e.detailType === "llm.usage" && (e.detail.tokens as { audio?: number }).audio === 25,
    );
    expect(usage?.detail.tokens).toEqual({
      input: 40,
      output: 3,
      cached: 0,
      reasoning: 0,
      cacheWrite: 0,
      audio: 25,
    });
  });

  it("retries publishing the usage event through EventBridge failures and an outage, losing nothing", async () => {
    eventBridge.failCalls(2, 500);
    await handler(chat({ model: "openai/gpt-sim", user: "after-failures" }), new CollectingStream(), {});
    expect(
      eventBridge.events.filter((e) => e.detailType === "llm.usage" && e.detail.status === 200).length,
    ).toBeGreaterThan(0);

    await eventBridge.stop();
    const before = eventBridge.events.length;
    const invocation = handler(chat({ model: "openai/gpt-sim" }), new CollectingStream(), {});
    setTimeout(() => void eventBridge.restart(), 300);
    await invocation;
    expect(eventBridge.events.length).toBe(before + 1);
  }, 30_000);

  it("serves a request that came through a custom domain's base path, as through the stage", async () => {
    // API Gateway keeps the base path in `path`; `resource` is the route's own template.
    const event = { ...chat({ model: "openai/gpt-sim" }), path: "/llm/v1/chat/completions" };
    const stream = new CollectingStream();
    await handler({ ...event, resource: "/v1/chat/completions", pathParameters: null }, stream, {});
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.statusCode).toBe(200);
    expect(JSON.parse(body).choices[0].message.content).toBe("Echo: from lambda");
  });

  it("refuses a key DynamoDB does not know with 401 in the prelude", async () => {
    const stream = new CollectingStream();
    await handler(chat({ model: "openai/gpt-sim" }, "sk-gw-unknown"), stream, {});
    expect(unframe(stream.bytes).prelude.statusCode).toBe(401);
    // ...and the failure is on its way to the system audit chain: FIFO group `system`, no key in it.
    const got = await sqs.client().send(
      new ReceiveMessageCommand({
        QueueUrl: auditQueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const record = (got.Messages ?? []).map((m) => ({
      group: m.Attributes?.MessageGroupId,
      body: JSON.parse(m.Body ?? "{}"),
    }));
    expect(record).toContainEqual({
      group: "system",
      body: expect.objectContaining({ kind: "auth.failure", chain: "system" }),
    });
    expect(JSON.stringify(record)).not.toContain("sk-gw-unknown");
  });

  it("answers 503 store_unavailable with Retry-After while DynamoDB is unreachable, and serves again once it is back", async () => {
    await ddb.stop();
    try {
      const stream = new CollectingStream();
      // A key no cache holds: its lookup must reach DynamoDB.
      await handler(chat({ model: "openai/gpt-sim" }, "sk-gw-while-down"), stream, {});
      const { prelude, body } = unframe(stream.bytes);
      expect([prelude.statusCode, prelude.headers["retry-after"]]).toEqual([503, "1"]);
      expect(JSON.parse(body).error).toMatchObject({ type: "server_error", code: "store_unavailable" });
    } finally {
      await ddb.restart();
    }
    const stream = new CollectingStream();
    await handler(chat({ model: "openai/gpt-sim" }), stream, {});
    expect(unframe(stream.bytes).prelude.statusCode).toBe(200);
  });
});
