import { describe, expect, it } from "vitest";
import type { ModelConfig, OrgConfig, ProviderConfig } from "../../../core/config/types.ts";
import type { RegistrySnapshot } from "../../../core/registry/port.ts";
import { unservedRegions } from "../../../core/registry/unserved-regions.ts";

const snapshot = (orgs: OrgConfig[], targetRegion?: string): RegistrySnapshot => ({
  version: 1,
  providers: new Map<string, ProviderConfig>([
    ["us-p", { id: "us-p", kind: "mock", region: "us", models: [] }],
    ["eu-p", { id: "eu-p", kind: "mock", region: "eu", models: [] }],
  ]),
  models: new Map<string, ModelConfig>([
    [
      "m",
      {
        alias: "m",
        strategy: "fallback",
        targets: [{ provider: "us-p", model: "x", ...(targetRegion ? { region: targetRegion } : {}) }],
      },
    ],
  ]),
  orgs: new Map(orgs.map((o) => [o.id, o])),
});

describe("unservedRegions", () => {
  it.each<[string, OrgConfig[], string | undefined]>([
    ["an org without allowed regions", [{ id: "a" }], undefined],
    ["regions providers are in", [{ id: "a", allowedRegions: ["us", "eu"] }], undefined],
    ["a region only a target is in", [{ id: "a", allowedRegions: ["apac"] }], "apac"],
  ])("finds none for %s", (_, orgs, targetRegion) => {
    expect(unservedRegions(snapshot(orgs, targetRegion))).toEqual([]);
  });

  it.each<[string, string[], string[]]>([
    ["a misspelt region", ["eu", "mars"], ["mars"]],
    ["a region cased otherwise (regions compare exactly)", ["EU"], ["EU"]],
  ])("names %s with its org", (_, allowedRegions, regions) => {
    expect(unservedRegions(snapshot([{ id: "a", allowedRegions }]))).toEqual(
      regions.map((region) => ({ org: "a", region })),
    );
  });
});
