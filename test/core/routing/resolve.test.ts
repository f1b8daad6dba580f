import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/api/errors.ts";
import { parseConfig } from "../../../core/config/parse.ts";
import type { OrgConfig, ProviderConfig } from "../../../core/config/types.ts";
import type { RegistrySnapshot } from "../../../core/registry/port.ts";
import {
  DEFAULT_TIMEOUTS,
  firstByteMsFor,
  type ResolveInput,
  resolveModel,
} from "../../../core/routing/resolve.ts";

const config = parseConfig({
  providers: [
    { id: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", region: "us", timeouts: { idleMs: 30 } },
    { id: "claude", kind: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY", region: "eu" },
    { id: "mock", kind: "mock" },
  ],
  models: [
    {
      alias: "smart",
      targets: [
        { provider: "openai", model: "gpt-4o", timeouts: { idleMs: 40, totalMs: 50 } },
        { provider: "claude", model: "claude-sonnet-4-5" },
      ],
    },
    { alias: "eu-via-us", targets: [{ provider: "openai", model: "gpt-4o", region: "eu" }] },
    { alias: "claude-only", targets: [{ provider: "claude", model: "claude-haiku" }] },
  ],
  orgs: [],
});

const snapshot: RegistrySnapshot = {
  version: 1,
  providers: new Map(config.providers.map((p) => [p.id, p])),
  models: new Map(config.models.map((m) => [m.alias, m])),
  orgs: new Map(),
};

const everyoneEnabled = () => true;

function resolve(requested: string, over: Partial<ResolveInput> = {}) {
  return resolveModel({ requested, snapshot, org: undefined, isEnabled: everyoneEnabled, ...over });
}

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

const summary = (requested: string, over: Partial<ResolveInput> = {}) =>
  resolve(requested, over).targets.map((t) => `${t.provider.id}/${t.model}@${t.region}`);

describe("resolveModel", () => {
  it("expands an alias into its targets in order", () => {
    expect(summary("smart")).toEqual(["openai/gpt-4o@us", "claude/claude-sonnet-4-5@eu"]);
    expect(resolve("smart").requested).toBe("smart");
  });

  it("routes provider/model straight to that provider", () => {
    expect(summary("claude/claude-opus-4")).toEqual(["claude/claude-opus-4@eu"]);
  });

  it("keeps everything after the first slash as the provider's model name", () => {
    expect(summary("mock/org/model:v1")).toEqual(["mock/org/model:v1@global"]);
  });

  it.each([
    ["an unknown alias", "nope"],
    ["an unknown provider", "azure/gpt-4o"],
    ["a leading slash", "/gpt-4o"],
    ["a trailing slash", "openai/"],
    ["an empty name", ""],
  ])("answers %s with 404 model_not_found on param model", (_what, requested) => {
    const err = failure(() => resolve(requested));
    expect(err).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    expect(err.message).toContain(`'${requested}'`);
  });

  it("answers 404 naming the provider when its credential is missing", () => {
    const err = failure(() => resolve("openai/gpt-4o", { isEnabled: (p) => p.id !== "openai" }));
    expect(err).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    expect(err.message).toContain("Provider 'openai' is not enabled");
  });

  it("skips disabled targets of an alias and keeps the enabled ones", () => {
    expect(summary("smart", { isEnabled: (p) => p.id !== "openai" })).toEqual([
      "claude/claude-sonnet-4-5@eu",
    ]);
  });

  it("answers 404 when no target of an alias is enabled", () => {
    expect(failure(() => resolve("smart", { isEnabled: () => false })).status).toBe(404);
  });

  it("passes the provider to isEnabled", () => {
    const seen: ProviderConfig[] = [];
    resolve("smart", {
      isEnabled: (p) => {
        seen.push(p);
        return true;
      },
    });
    expect(seen.map((p) => p.id)).toEqual(["openai", "claude"]);
  });

  it("uses the defaults when nothing overrides a timeout", () => {
    expect(resolve("claude/x").targets[0]?.timeouts).toEqual(DEFAULT_TIMEOUTS);
  });

  it.each([
    ["a stream's first event, unset", {}, "stream", 60_000],
    [
      "a chat answer, unset: it comes whole, after any thinking, just inside the SDK's 10 minutes",
      {},
      "chat",
      590_000,
    ],
    ["an embeddings answer, unset", {}, "embeddings", 60_000],
    ["a stream's first event, unset, with a shorter totalMs", { totalMs: 9_000 }, "stream", 9_000],
    ["a chat answer, unset, with a shorter totalMs", { totalMs: 9_000 }, "chat", 9_000],
    ["a stream's first event, set", { firstByteMs: 5_000 }, "stream", 5_000],
    ["a chat answer, set", { firstByteMs: 5_000 }, "chat", 5_000],
    ["an embeddings answer, set", { firstByteMs: 5_000 }, "embeddings", 5_000],
  ] as const)("waits for %s as long as firstByteMsFor says", (_, set, call, ms) => {
    expect(firstByteMsFor({ ...DEFAULT_TIMEOUTS, ...set }, call)).toBe(ms);
  });

  it("merges timeouts as defaults < server < provider < target", () => {
    const serverTimeouts = { connectMs: 10, idleMs: 20, totalMs: 25, firstByteMs: 26 };
    const [openai, claude] = resolve("smart", { serverTimeouts }).targets;
    expect(openai?.timeouts).toEqual({ connectMs: 10, firstByteMs: 26, idleMs: 40, totalMs: 50 });
    expect(claude?.timeouts).toEqual(serverTimeouts);
  });

  it("lets the provider override the server for provider/model requests", () => {
    const t = resolve("openai/gpt-4o", { serverTimeouts: { idleMs: 20 } }).targets[0]?.timeouts;
    expect(t).toEqual({ ...DEFAULT_TIMEOUTS, idleMs: 30 });
  });

  it("does not let one resolution's timeouts leak into the defaults", () => {
    resolve("smart", { serverTimeouts: { connectMs: 1 } });
    expect(DEFAULT_TIMEOUTS.connectMs).toBe(5_000);
  });

  it("lets a target's region override its provider's region", () => {
    expect(summary("eu-via-us")).toEqual(["openai/gpt-4o@eu"]);
  });

  describe("with an org that restricts regions", () => {
    const euOnly: OrgConfig = { id: "acme", allowedRegions: ["eu"] };

    it("drops targets outside the allowed regions", () => {
      expect(summary("smart", { org: euOnly })).toEqual(["claude/claude-sonnet-4-5@eu"]);
    });

    it("honours a target region override when filtering", () => {
      expect(summary("eu-via-us", { org: euOnly })).toEqual(["openai/gpt-4o@eu"]);
    });

    it("answers 403 residency_violation when no target is in region", () => {
      const err = failure(() => resolve("openai/gpt-4o", { org: euOnly }));
      expect(err).toMatchObject({ status: 403, type: "permission_error", code: "residency_violation" });
      expect(err.message).toContain("(eu)");
    });

    it("answers 403 even when the model exists only elsewhere", () => {
      expect(failure(() => resolve("claude-only", { org: { id: "x", allowedRegions: ["us"] } })).status).toBe(
        403,
      );
    });

    it("allows every region when the org sets none", () => {
      expect(summary("smart", { org: { id: "free" } })).toHaveLength(2);
    });

    it("allows nothing when the org's allowed list is empty", () => {
      expect(failure(() => resolve("smart", { org: { id: "none", allowedRegions: [] } })).status).toBe(403);
    });
  });
});
