/** The us-east-1 (primary) stage under Pulumi mocks: owns the global tables and the primary signing key. */
import { beforeAll, describe, expect, it } from "vitest";
import { globalTableName, signingKeyAlias } from "../../stacks/regions.ts";
import { GLOBAL_TABLES } from "../../stacks/storage.ts";
import { named, ofType, TYPES, text } from "./inspect.ts";
import { sharedSuite } from "./shared-suite.ts";
import { type Synth, synthesize } from "./sst-runtime.ts";

let synth: Synth;
beforeAll(async () => {
  synth = await synthesize("production", { GATEWAY_ALERT_EMAIL: "ops@example.com" });
}, 60_000);

describe("primary stage (production, us-east-1)", () => {
  sharedSuite(() => synth, "us-east-1");

  it("reports its region and role", () => {
    expect(synth.outputs).toMatchObject({ region: "us-east-1", role: "primary" });
  });

  it("creates the three global tables with an eu-west-1 replica, so their data lives in both regions", () => {
    for (const logical of GLOBAL_TABLES) {
      const table = named(synth, TYPES.table, `${logical}Table`);
      expect(table.read).toBe(false);
      expect(table.inputs).toMatchObject({
        name: globalTableName("llm-gateway", "production", logical),
        hashKey: "pk",
        rangeKey: "sk",
        attributes: expect.arrayContaining([
          { name: "pk", type: "S" },
          { name: "sk", type: "S" },
        ]),
        streamEnabled: true,
        streamViewType: "NEW_AND_OLD_IMAGES",
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        replicas: [{ regionName: "eu-west-1", pointInTimeRecovery: true }],
      });
      const home = text(table.state, "arn").split(":")[3];
      const replicas = (table.inputs.replicas as { regionName: string }[]).map((r) => r.regionName);
      expect(new Set([home, ...replicas])).toEqual(new Set(["us-east-1", "eu-west-1"]));
    }
    // The budgets table's sparse index of open reservations, which the reservation sweep queries.
    const budgets = named(synth, TYPES.table, "BudgetsTableTable");
    expect(budgets.inputs.globalSecondaryIndexes).toEqual([
      { name: "OpenReservations", hashKey: "openShard", rangeKey: "openAt", projectionType: "ALL" },
    ]);
    expect(budgets.inputs.attributes).toEqual(
      expect.arrayContaining([
        { name: "openShard", type: "S" },
        { name: "openAt", type: "N" },
      ]),
    );
    // Global tables plus the regional audit table, nothing else.
    expect(ofType(synth, TYPES.table)).toHaveLength(GLOBAL_TABLES.length + 1);
  });

  it("creates a multi-Region ECC_NIST_P256 SIGN_VERIFY key under a deterministic alias", () => {
    const [key, ...more] = ofType(synth, TYPES.key);
    expect(more).toHaveLength(0);
    expect(key?.inputs).toMatchObject({
      customerMasterKeySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
      multiRegion: true,
    });
    expect(ofType(synth, TYPES.replicaKey)).toHaveLength(0);
    expect(named(synth, TYPES.alias, "AuditSigningKeyAlias").inputs).toMatchObject({
      name: signingKeyAlias("llm-gateway", "production"),
      targetKeyId: key?.state.keyId,
    });
  });

  it("subscribes GATEWAY_ALERT_EMAIL to the alerts topic", () => {
    const [subscription] = ofType(synth, TYPES.subscription);
    expect(subscription?.inputs).toMatchObject({
      protocol: "email",
      endpoint: "ops@example.com",
      topic: named(synth, TYPES.topic, "AlertsTopicTopic").state.arn,
    });
  });
});
