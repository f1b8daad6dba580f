import { randomUUID } from "node:crypto";
import type { AuditQueue } from "../../core/audit/port.ts";
import { createSampler } from "../../core/audit/sampler.ts";
import type { BudgetStore } from "../../core/budgets/port.ts";
import { DEFAULT_BASE_URL } from "../../core/config/defaults.ts";
import type { ProviderConfig, Timeouts } from "../../core/config/types.ts";
import type { EventPublisher } from "../../core/events/port.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import { cachedKeyStore } from "../../core/keys/cache.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import type { Log } from "../../core/log.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { createHttpTransport } from "../../core/providers/http-transport.ts";
import { createMockTransport } from "../../core/providers/mock/transport.ts";
import type { RateLimitStore } from "../../core/ratelimit/port.ts";
import { createRegistryCache } from "../../core/registry/cache.ts";
import type { RegistryStore } from "../../core/registry/port.ts";
import { createBreakerBoard } from "../../core/routing/breaker-board.ts";

export interface GatewayDepsOptions {
  registry: RegistryStore;
  keys: KeyStore;
  /** Where provider keys and base-URL overrides are looked up by the names the registry gives. */
  env: Record<string, string | undefined>;
  maxBodyBytes: number;
  timeouts?: Timeouts | undefined;
  log: Log;
  /** How long a registry snapshot and a found key are trusted before the store is asked again. */
  cacheTtlMs?: number | undefined;
  keepAliveMs?: number | undefined;
  onOutcome?: ((outcome: RequestOutcome) => void) | undefined;
  /** Where this instance runs: an AWS region, or `local`. */
  region: string;
  budgets?: BudgetStore | undefined;
  rateLimits?: RateLimitStore | undefined;
  events?: EventPublisher | undefined;
  audit?: AuditQueue | undefined;
}

/**
 * Wires stores (whichever adapters the caller chose) and the provider transports into the gateway's
 * ports. Shared by portable mode and the Lambda entry points, so both run the same request path with
 * the same defaults; only the stores and the source of `env` differ.
 */
export function createGatewayDeps(opts: GatewayDepsOptions): { deps: GatewayDeps; close(): Promise<void> } {
  const { env } = opts;
  const ttl = opts.cacheTtlMs ?? 1_000;
  const http = createHttpTransport();
  const deps: GatewayDeps = {
    registry: createRegistryCache(opts.registry, ttl),
    keys: cachedKeyStore(opts.keys, ttl),
    transports: { openai: http, anthropic: http, gemini: http, mock: createMockTransport() },
    // A blank value switches nothing on: it would send `Authorization: Bearer ` with no key.
    credential: (p: ProviderConfig) => (p.apiKeyEnv ? env[p.apiKeyEnv]?.trim() || undefined : undefined),
    baseUrl: (p: ProviderConfig) =>
      (p.baseUrlEnv && env[p.baseUrlEnv]) ||
      p.baseUrl ||
      (p.kind === "mock" ? "http://mock.invalid" : DEFAULT_BASE_URL[p.kind]),
    maxBodyBytes: opts.maxBodyBytes,
    timeouts: opts.timeouts,
    keepAliveMs: opts.keepAliveMs ?? 15_000,
    // Every log line passes through redaction: nothing secret or personal reaches the logs.
    log: redactingLog(opts.log),
    breakers: createBreakerBoard(),
    region: opts.region,
    budgets: opts.budgets,
    rateLimits: opts.rateLimits,
    events: opts.events,
    audit: opts.audit,
    // Authentication failures reach the audit chain at most 60 a minute per instance.
    authFailureSampler: createSampler(60),
    now: Date.now,
    newId: randomUUID,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    onOutcome: opts.onOutcome,
  };
  return { deps, close: () => http.close() };
}
