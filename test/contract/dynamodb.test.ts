import { describe, expect, it } from "vitest";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { useDynamoDbLocal } from "./dynamo-harness.ts";
import { dynamoLimitsCases } from "./dynamodb-limits.ts";
import { bigConfig, bulkyModels, key, smallConfig } from "./fixtures.ts";
import { keyAdminContract } from "./key-admin.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { registryAdminContract } from "./registry-admin.contract.ts";
import { registryStoreContract } from "./registry-store.contract.ts";

const dynamo = useDynamoDbLocal("ScanCommand");

registryStoreContract("DynamoDB Local", ...dynamo.factories("registry", createDynamoRegistryStore));
registryAdminContract("DynamoDB Local", ...dynamo.factories("registry", createDynamoRegistryStore));

describe("DynamoDB Local restart mid-suite", () => {
  it("fails fast while the emulator is down, then keeps its data and serves new calls", async () => {
    const registryTable = await dynamo.freshTable("restart-registry");
    const keysTable = await dynamo.freshTable("restart-keys");
    const registry = createDynamoRegistryStore(dynamo.doc, registryTable);
    const keys = createDynamoKeyStore(dynamo.doc, keysTable);
    await registry.applyConfig(smallConfig);
    await keys.create(key("k1"));

    // One attempt and short timeouts: a dead endpoint must surface as an error, not as minutes of retries.
    const fragileDoc = dynamo.ddb.documentClient({
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
    });
    const fragile = createDynamoKeyStore(fragileDoc, keysTable);
    try {
      await dynamo.ddb.stop();
      const started = performance.now();
      await expect(fragile.findBySha256(key("k1").sha256)).rejects.toThrow(/ECONNREFUSED/);
      await expect(createDynamoRegistryStore(fragileDoc, registryTable).version()).rejects.toThrow(
        /ECONNREFUSED/,
      );
      expect(performance.now() - started).toBeLessThan(3_000);

      await dynamo.ddb.restart();
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

keyStoreContract("DynamoDB Local", ...dynamo.factories("keys", createDynamoKeyStore));
keyAdminContract("DynamoDB Local", ...dynamo.factories("keys", createDynamoKeyStore));

describe("DynamoDB pagination is exercised, not assumed", () => {
  it("loads the big registry with more than one Scan page", async () => {
    const store = createDynamoRegistryStore(dynamo.doc, await dynamo.freshTable("paging-registry"));
    await store.applyConfig(bigConfig());
    dynamo.calls = 0;
    expect((await store.load()).models.size).toBe(130);
    expect(dynamo.calls).toBeGreaterThan(1);
  });

  it("counts bulky keys with more than one Scan page", async () => {
    const store = createDynamoKeyStore(dynamo.doc, await dynamo.freshTable("paging-keys"));
    for (let i = 0; i < 150; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          store.create(key(`bulk-${i + j}`, { models: bulkyModels(i + j) })),
        ),
      );
    dynamo.calls = 0;
    expect(await store.count()).toBe(150);
    expect(dynamo.calls).toBeGreaterThan(1);
  });
});

dynamoLimitsCases({
  table: dynamo.freshTable,
  doc: () => dynamo.doc,
  peerDoc: () => dynamo.peerDoc,
  client: () => dynamo.ddb.client(),
  documentClient: () => dynamo.ddb.documentClient(),
});
