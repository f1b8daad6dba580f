/** The eu-west-1 (secondary) stage under Pulumi mocks: references the replicas, replicates the key. */
import { beforeAll, describe, expect, it } from "vitest";
import { globalTableName, signingKeyAlias } from "../../stacks/regions.ts";
import { GLOBAL_TABLES } from "../../stacks/storage.ts";
import { named, ofType, TYPES, text } from "./inspect.ts";
import { sharedSuite } from "./shared-suite.ts";
import { type Synth, synthesize } from "./sst-runtime.ts";

let synth: Synth;
beforeAll(async () => {
  process.env.GATEWAY_ALERT_EMAIL = "";
  synth = await synthesize("production-eu");
}, 60_000);

describe("secondary stage (production-eu, eu-west-1)", () => {
  sharedSuite(() => synth, "eu-west-1");

  it("reports its region and role", () => {
    expect(synth.outputs).toMatchObject({ region: "eu-west-1", role: "secondary" });
  });

  it("references the primary's replicated tables by name instead of creating them", () => {
    for (const logical of GLOBAL_TABLES) {
      const table = named(synth, TYPES.table, `${logical}Table`);
      expect(table.read).toBe(true);
      // Same deterministic name the primary stage gives the table it creates.
      expect(table.id).toBe(globalTableName("llm-gateway", "production", logical));
      expect(text(table.state, "arn")).toContain(":dynamodb:eu-west-1:");
    }
    const created = ofType(synth, TYPES.table).filter((t) => !t.read);
    expect(created.map((t) => t.name)).toEqual(["AuditTableTable"]);
  });

  it("replicates the primary's multi-Region signing key, found through its us-east-1 alias", () => {
    const alias = signingKeyAlias("llm-gateway", "production");
    expect(ofType(synth, TYPES.key)).toHaveLength(0);
    const lookup = synth.calls.find((c) => c.token === "aws:kms/getAlias:getAlias");
    expect(lookup?.inputs).toEqual({ name: alias, region: "us-east-1" });
    const [replica, ...more] = ofType(synth, TYPES.replicaKey);
    expect(more).toHaveLength(0);
    expect(text(replica!.inputs, "primaryKeyArn")).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\/mrk-/);
    expect(named(synth, TYPES.alias, "AuditSigningKeyAlias").inputs.name).toBe(alias);
  });

  it("creates no email subscription when GATEWAY_ALERT_EMAIL is unset", () => {
    expect(ofType(synth, TYPES.subscription)).toHaveLength(0);
  });
});
