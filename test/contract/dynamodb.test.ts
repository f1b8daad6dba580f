import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { dynamoLimitsCases } from "./dynamodb-limits.ts";
import { bigConfig, bulkyModels, key, smallConfig } from "./fixtures.ts";
import { keyAdminContract } from "./key-admin.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { registryAdminContract } from "./registry-admin.contract.ts";
import { registryStoreContract } from "./registry-store.contract.ts";

let ddb: DynamoDbLocal;
let admin: DynamoDBClient;
let doc: DynamoDBDocumentClient;
/** A second client with its own connection pool: peers must not share the first one's sockets. */
let peerDoc: DynamoDBDocumentClient;
let scans = 0;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  admin = ddb.client();
  const base = ddb.client();
  // Counts Scan calls, to prove that loads and counts past 1 MB really page.
  base.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "ScanCommand") scans++;
      return next(args);
    },
    { step: "initialize", name: "countScans" },
  );
  doc = DynamoDBDocumentClient.from(base);
  peerDoc = ddb.documentClient();
}, 60_000);

afterAll(async () => {
  for (const c of [doc, peerDoc, admin]) c?.destroy();
  await ddb?.dispose();
});

let tables = 0;
/** Every store gets its own fresh table, so contract cases start from empty storage. */
async function freshTable(prefix: string): Promise<string> {
  const name = `${prefix}-${++tables}-${process.pid}`;
  await createTables(admin, [name]);
  return name;
}

const registryTables = new WeakMap<RegistryStore, string>();
const keyTables = new WeakMap<KeyStore, string>();

registryStoreContract(
  "DynamoDB Local",
  async () => {
    const table = await freshTable("registry");
    const store = createDynamoRegistryStore(doc, table);
    registryTables.set(store, table);
    return store;
  },
  (store) => createDynamoRegistryStore(peerDoc, registryTables.get(store)!),
);

registryAdminContract(
  "DynamoDB Local",
  async () => {
    const table = await freshTable("registry");
    const store = createDynamoRegistryStore(doc, table);
    registryTables.set(store, table);
    return store;
  },
  (store) => createDynamoRegistryStore(peerDoc, registryTables.get(store)!),
);

describe("DynamoDB Local restart mid-suite", () => {
  it("fails fast while the emulator is down, then keeps its data and serves new calls", async () => {
    const registryTable = await freshTable("restart-registry");
    const keysTable = await freshTable("restart-keys");
    const registry = createDynamoRegistryStore(doc, registryTable);
    const keys = createDynamoKeyStore(doc, keysTable);
    await registry.applyConfig(smallConfig);
    await keys.create(key("k1"));

    // One attempt and short timeouts: a dead endpoint must surface as an error, not as minutes of retries.
    const fragileDoc = ddb.documentClient({
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
    });
    const fragile = createDynamoKeyStore(fragileDoc, keysTable);
    try {
      await ddb.stop();
      const started = performance.now();
      await expect(fragile.findBySha256(key("k1").sha256)).rejects.toThrow(/ECONNREFUSED/);
      await expect(createDynamoRegistryStore(fragileDoc, registryTable).version()).rejects.toThrow(
        /ECONNREFUSED/,
      );
      expect(performance.now() - started).toBeLessThan(3_000);

      await ddb.restart();
      expect(await fragile.findBySha256(key("k1").sha256)).toEqual(key("k1"));
      const snap = await registry.load();
      expect([snap.version, snap.models.size, snap.providers.size]).toEqual([1, 2, 2]);
      await keys.create(key("k2"));
      await registry.applyConfig({ ...smallConfig, orgs: [] });
      expect([await keys.count(), await registry.version()]).toEqual([2, 2]);
    } finally {
      fragileDoc.destroy();
    }
  }, 60_000);
});

keyStoreContract(
  "DynamoDB Local",
  async () => {
    const table = await freshTable("keys");
    const store = createDynamoKeyStore(doc, table);
    keyTables.set(store, table);
    return store;
  },
  (store) => createDynamoKeyStore(peerDoc, keyTables.get(store)!),
);

keyAdminContract(
  "DynamoDB Local",
  async () => {
    const table = await freshTable("keys");
    const store = createDynamoKeyStore(doc, table);
    keyTables.set(store, table);
    return store;
  },
  (store) => createDynamoKeyStore(peerDoc, keyTables.get(store)!),
);

describe("DynamoDB pagination is exercised, not assumed", () => {
  it("loads the big registry with more than one Scan page", async () => {
    const store = createDynamoRegistryStore(doc, await freshTable("paging-registry"));
    await store.applyConfig(bigConfig());
    scans = 0;
    expect((await store.load()).models.size).toBe(130);
    expect(scans).toBeGreaterThan(1);
  });

  it("counts bulky keys with more than one Scan page", async () => {
    const store = createDynamoKeyStore(doc, await freshTable("paging-keys"));
    for (let i = 0; i < 150; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          store.create(key(`bulk-${i + j}`, { models: bulkyModels(i + j) })),
        ),
      );
    scans = 0;
    expect(await store.count()).toBe(150);
    expect(scans).toBeGreaterThan(1);
  });
});

dynamoLimitsCases({
  table: freshTable,
  doc: () => doc,
  peerDoc: () => peerDoc,
  client: () => ddb.client(),
  documentClient: () => ddb.documentClient(),
});
