import { describe, expect, it } from "vitest";
import { deploymentFor } from "../../stacks/regions.ts";

describe("deploymentFor: the stage name decides region and role", () => {
  it("maps <env> to the us-east-1 primary and <env>-eu to the eu-west-1 secondary", () => {
    expect(deploymentFor("production")).toMatchObject({
      env: "production",
      region: "us-east-1",
      role: "primary",
      peerRegion: "eu-west-1",
      protected: true,
    });
    expect(deploymentFor("production-eu")).toMatchObject({
      env: "production",
      region: "eu-west-1",
      role: "secondary",
      peerRegion: "us-east-1",
      protected: true,
    });
  });

  it("does not protect other environments", () => {
    expect(deploymentFor("staging-eu")).toMatchObject({
      env: "staging",
      role: "secondary",
      protected: false,
    });
  });

  it("rejects a stage that is only the suffix", () => {
    expect(() => deploymentFor("-eu")).toThrow(/no environment name/);
  });
});
