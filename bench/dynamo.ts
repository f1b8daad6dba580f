import { Writable } from "node:stream";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { DEFAULT_CONFIG } from "../core/config/defaults.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import type { KeyStore } from "../core/keys/port.ts";
import { sha256Hex } from "../core/keys/secret.ts";
import { createSqliteKeyStore } from "../core/keys/sqlite-store.ts";
import { silentLog } from "../core/log.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import type { RegistryStore } from "../core/registry/port.ts";
import { createSqliteRegistryStore } from "../core/registry/sqlite-store.ts";
import { openDatabase } from "../core/storage/sqlite.ts";
import {
  installLambdaRuntime,
  isStreaming,
  type StreamingHandler,
} from "../functions/local/lambda-runtime.ts";
import { createRouterHandler } from "../functions/router.ts";
import { createGatewayDeps } from "../functions/shared/gateway-deps.ts";
import { seedStores } from "../functions/shared/seed.ts";
import { createTables, startDynamoDbLocal } from "../test/emulators/dynamodb-local.ts";
import { median } from "./load.ts";

/**
 * What the DynamoDB adapters add per request, against DynamoDB Local on loopback (a real table adds a
 * network round trip of its own, typically single-digit ms in-region): the two reads a request can make
 * (key lookup, registry version check), and whole router invocations with the caches off (every request
 * reads the store) and on (the shipped 1 s TTL).
 */
export interface DynamoBench {
  keyLookupUs: { sqlite: number; dynamo: number };
  versionCheckUs: { sqlite: number; dynamo: number };
  invokeMs: { sqliteUncached: number; dynamoUncached: number; dynamoCached: number };
}

const KEY = "sk-gw-bench-dynamo";
const N = 400;

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const sink = () =>
  new (class extends Writable {
    setContentType() {}
    override _write(_c: Buffer, _e: BufferEncoding, done: () => void) {
      done();
    }
  })();

const event = {
  path: "/v1/chat/completions",
  httpMethod: "POST",
  headers: { authorization: `Bearer ${KEY}` },
  body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "bench" }] }),
  isBase64Encoded: false,
  requestContext: { requestId: "bench" },
} as unknown as APIGatewayProxyEvent;

function handlerFor(registry: RegistryStore, keys: KeyStore, cacheTtlMs: number): StreamingHandler {
  const { deps } = createGatewayDeps({
    registry,
    keys,
    env: {},
    region: "local",
    maxBodyBytes: 1 << 22,
    log: silentLog,
    cacheTtlMs,
  });
  const h = createRouterHandler(deps);
  if (!isStreaming(h)) throw new Error("router handler is not streaming");
  return h;
}

export async function benchDynamo(): Promise<DynamoBench> {
  installLambdaRuntime();
  const ddb = await startDynamoDbLocal();
  try {
    await createTables(ddb.client(), ["bench-registry", "bench-keys"]);
    const doc = ddb.documentClient();
    const stores = {
      dynamo: {
        registry: createDynamoRegistryStore(doc, "bench-registry"),
        keys: createDynamoKeyStore(doc, "bench-keys"),
      },
      sqlite: (() => {
        const db = openDatabase(":memory:");
        return { registry: createSqliteRegistryStore(db), keys: createSqliteKeyStore(db) };
      })(),
    };
    for (const s of Object.values(stores))
      await seedStores(s.registry, s.keys, DEFAULT_CONFIG, { GATEWAY_API_KEY: KEY });
    const digest = sha256Hex(KEY);
    const p50us = async (fn: () => Promise<unknown>) => {
      await timeEach(50, fn);
      return median(await timeEach(N, fn)) * 1000;
    };
    const invoke = async (h: StreamingHandler) => {
      await timeEach(50, () => h(event, sink(), {}));
      return median(await timeEach(N, () => h(event, sink(), {})));
    };
    return {
      keyLookupUs: {
        sqlite: await p50us(() => stores.sqlite.keys.findBySha256(digest)),
        dynamo: await p50us(() => stores.dynamo.keys.findBySha256(digest)),
      },
      versionCheckUs: {
        sqlite: await p50us(() => stores.sqlite.registry.version()),
        dynamo: await p50us(() => stores.dynamo.registry.version()),
      },
      invokeMs: {
        sqliteUncached: await invoke(handlerFor(stores.sqlite.registry, stores.sqlite.keys, 0)),
        dynamoUncached: await invoke(handlerFor(stores.dynamo.registry, stores.dynamo.keys, 0)),
        dynamoCached: await invoke(handlerFor(stores.dynamo.registry, stores.dynamo.keys, 1_000)),
      },
    };
  } finally {
    await ddb.dispose();
  }
}
