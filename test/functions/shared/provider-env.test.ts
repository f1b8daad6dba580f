import { describe, expect, it } from "vitest";
import { providerEnv } from "../../../functions/shared/provider-env.ts";

const env = {
  OPENAI_API_KEY: "sk-openai",
  ANTHROPIC_BASE_URL: "http://127.0.0.1:9/",
  CUSTOM_KEY: "custom",
  LISTED_TOKEN: "listed",
  GITHUB_TOKEN: "ghp_not-a-provider-key",
  AWS_SECRET_ACCESS_KEY: "role-secret",
  PATH: "/usr/bin",
};

describe("providerEnv", () => {
  it("keeps only the variables built-in and configured providers name, and those the operator lists", () => {
    const providers = [
      { id: "c", kind: "openai" as const, apiKeyEnv: "CUSTOM_KEY", region: "global", models: [] },
    ];
    expect(providerEnv({ ...env, GATEWAY_PROVIDER_ENV: "LISTED_TOKEN, UNSET_KEY" }, providers)).toEqual({
      OPENAI_API_KEY: "sk-openai",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9/",
      CUSTOM_KEY: "custom",
      LISTED_TOKEN: "listed",
    });
  });

  it("gives nothing else: a CI token, the platform's credentials, PATH", () => {
    const out = providerEnv(env, []);
    for (const name of ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "PATH", "CUSTOM_KEY", "LISTED_TOKEN"])
      expect(out[name]).toBeUndefined();
  });
});
