import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { parseConfig } from "../../core/config/parse.ts";
import type {
  BreakerConfig,
  GatewayConfig,
  KeyConfig,
  OrgConfig,
  PriceConfig,
  RetryConfig,
} from "../../core/config/types.ts";
import type { RequestOutcome } from "../../core/gateway/types.ts";
import { type Log, silentLog } from "../../core/log.ts";
import { WINDOW_MS } from "../../core/storage/sqlite-group-commit.ts";
import { type PortableGateway, startPortable } from "../../functions/local/portable.ts";
import {
  type Simulator,
  startAnthropicSimulator,
  startGeminiSimulator,
  startOpenAISimulator,
} from "../simulators/index.ts";

export const API_KEY = "sk-gw-e2e-api-key";
/** The bootstrap admin key (GATEWAY_ADMIN_KEY), for the admin API. */
export const ADMIN_KEY = "sk-gw-e2e-admin-key";
export const SCOPED_KEY = "sk-gw-e2e-scoped-key";
export const EU_KEY = "sk-gw-e2e-eu-key";
export const MAX_BODY = 256 * 1024;
/** Short upstream timeouts so hang faults resolve quickly. */
export const TIMEOUTS = { connectMs: 1_000, firstByteMs: 800, idleMs: 800, totalMs: 5_000 };

export interface Harness {
  gateway: PortableGateway;
  openai: Simulator;
  anthropic: Simulator;
  gemini: Simulator;
  client: OpenAI;
  outcomes: RequestOutcome[];
  /** The applied config and the data directory, for tests that change the registry as another instance would. */
  config: GatewayConfig;
  dataDir: string;
  /**
   * Resets simulators and recorded outcomes between tests. An outcome is reported after its response's
   * last byte, once the usage event's group commit lands, so reset first lets a few commit windows pass:
   * the last test's outcome then never leaks into the next test's list.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const sha = async (s: string) => (await import("../../core/keys/secret.ts")).sha256Hex(s);

/**
 * The portable gateway on an ephemeral port in front of the three provider simulators, configured
 * through the same config schema and environment lookup as `npm start`.
 */
export interface HarnessOptions {
  keepAliveMs?: number;
  /** Circuit breaker settings for every provider; suites that are not about the breaker disarm it. */
  breaker?: BreakerConfig;
  /** Retry policy of the `chain` aliases. */
  retry?: RetryConfig;
  /** More orgs, and keys given in plaintext (hashed here) with optional budgets and rate limits. */
  orgs?: OrgConfig[];
  keys?: Array<Omit<KeyConfig, "sha256" | "role"> & { secret: string }>;
  /** `server.alerts.webhookUrl`. */
  webhookUrl?: string;
  /** Where the gateway logs (default: nowhere). */
  log?: Log;
  /** Price overrides for provider `oa`, by provider model. */
  prices?: Record<string, PriceConfig>;
  /** Upstream timeouts instead of TIMEOUTS, field by field. */
  timeouts?: Partial<typeof TIMEOUTS>;
}

/** Thresholds no suite reaches: for tests whose faults must not open circuits between cases. */
export const DISARMED_BREAKER: BreakerConfig = { failureThreshold: 1_000_000, minimumRequests: 1_000_000 };

const withBreaker = <T extends object>(breaker: BreakerConfig | undefined, providers: T[]) =>
  providers.map((p) => (breaker ? { ...p, breaker } : p));

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const [openai, anthropic, gemini] = await Promise.all([
    startOpenAISimulator(),
    startAnthropicSimulator(),
    startGeminiSimulator(),
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), "gw-e2e-"));
  const config = parseConfig({
    server: {
      maxBodyBytes: MAX_BODY,
      timeouts: { ...TIMEOUTS, ...opts.timeouts },
      ...(opts.webhookUrl ? { alerts: { webhookUrl: opts.webhookUrl } } : {}),
    },
    providers: withBreaker(opts.breaker, [
      {
        id: "oa",
        kind: "openai",
        baseUrl: openai.url,
        apiKeyEnv: "SIM_OPENAI_KEY",
        region: "us",
        models: ["gpt-sim"],
        ...(opts.prices ? { prices: opts.prices } : {}),
      },
      {
        id: "an",
        kind: "anthropic",
        baseUrl: anthropic.url,
        apiKeyEnv: "SIM_ANTHROPIC_KEY",
        region: "us",
        // Anthropic's 1M-token context beta, opted into as a team would (README: providers[].headers).
        headers: { "anthropic-beta": "context-1m-2025-08-07" },
      },
      {
        id: "ge",
        kind: "gemini",
        baseUrl: gemini.url,
        apiKeyEnv: "SIM_GEMINI_KEY",
        region: "eu",
      },
      { id: "off", kind: "openai", apiKeyEnv: "UNSET_PROVIDER_KEY" },
      { id: "badkey", kind: "openai", baseUrl: openai.url, apiKeyEnv: "SIM_WRONG_KEY" },
      { id: "mock", kind: "mock", region: "local", models: ["echo"] },
      // Port 1 on loopback: nothing listens, so connecting is refused at once.
      {
        id: "down",
        kind: "openai",
        baseUrl: "http://127.0.0.1:1/v1",
        apiKeyEnv: "SIM_OPENAI_KEY",
      },
    ]),
    models: [
      { alias: "smart", targets: [{ provider: "an", model: "claude-sim" }] },
      { alias: "us-only", targets: [{ provider: "oa", model: "gpt-sim" }] },
      { alias: "eu-chat", targets: [{ provider: "ge", model: "gemini-sim" }] },
      {
        alias: "chain",
        retry: opts.retry,
        targets: [
          { provider: "oa", model: "gpt-sim" },
          { provider: "an", model: "claude-sim" },
          { provider: "ge", model: "gemini-sim" },
        ],
      },
      {
        alias: "chain-down",
        retry: opts.retry,
        targets: [
          { provider: "down", model: "gpt-sim" },
          { provider: "an", model: "claude-sim" },
        ],
      },
      // Opus 4.8 refuses sampling parameters; a request with them moves on to OpenAI.
      {
        alias: "opus-first",
        targets: [
          { provider: "an", model: "claude-opus-4-8" },
          { provider: "oa", model: "gpt-sim" },
        ],
      },
      {
        alias: "anywhere",
        targets: [
          { provider: "oa", model: "gpt-sim" },
          { provider: "ge", model: "gemini-sim" },
        ],
      },
    ],
    orgs: [{ id: "acme" }, { id: "eu-org", allowedRegions: ["eu"] }, ...(opts.orgs ?? [])],
    keys: [
      { id: "scoped", org: "acme", sha256: await sha(SCOPED_KEY), models: ["smart"] },
      { id: "eu", org: "eu-org", sha256: await sha(EU_KEY) },
      ...(await Promise.all(
        (opts.keys ?? []).map(async ({ secret, ...k }) => ({ ...k, sha256: await sha(secret) })),
      )),
    ],
  });
  const outcomes: RequestOutcome[] = [];
  const gateway = await startPortable({
    config,
    env: {
      SIM_OPENAI_KEY: "test-key",
      SIM_ANTHROPIC_KEY: "test-key",
      SIM_GEMINI_KEY: "test-key",
      SIM_WRONG_KEY: "sk-provider-secret-that-must-not-leak",
      // Variables an admin-made provider may not read (no provider names it, nor GATEWAY_PROVIDER_ENV),
      // and one it may.
      STRAY_SECRET_TOKEN: "stray-secret-that-must-not-leak",
      LISTED_PROVIDER_KEY: "test-key",
      GATEWAY_PROVIDER_ENV: "LISTED_PROVIDER_KEY",
      GATEWAY_API_KEY: API_KEY,
      GATEWAY_ADMIN_KEY: ADMIN_KEY,
    },
    dataDir,
    port: 0,
    log: opts.log ?? silentLog,
    keepAliveMs: opts.keepAliveMs,
    onOutcome: (o) => outcomes.push({ ...o }),
  });
  const client = new OpenAI({
    apiKey: API_KEY,
    baseURL: `${gateway.url}/v1`,
    maxRetries: 0,
    timeout: 10_000,
  });
  return {
    config,
    dataDir,
    gateway,
    openai,
    anthropic,
    gemini,
    client,
    outcomes,
    async reset() {
      await new Promise((resolve) => setTimeout(resolve, 5 * WINDOW_MS));
      for (const s of [openai, anthropic, gemini]) s.reset();
      outcomes.length = 0;
    },
    async close() {
      await gateway.close();
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One row per provider kind, so each e2e case runs against all three wire formats. */
export const PROVIDERS = [
  { name: "openai", model: "oa/gpt-sim", sim: (h: Harness) => h.openai },
  { name: "anthropic", model: "an/claude-sim", sim: (h: Harness) => h.anthropic },
  { name: "gemini", model: "ge/gemini-sim", sim: (h: Harness) => h.gemini },
] as const;

/** Raw HTTP call to the gateway, for cases the SDK would not send. */
export async function rawRequest(
  h: Harness,
  init: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(`${h.gateway.url}${init.path ?? "/v1/chat/completions"}`, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
    body: init.body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
