import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { DEFAULT_BASE_URL } from "../../core/config/defaults.ts";
import type { GatewayConfig, ProviderConfig } from "../../core/config/types.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import { bootstrapKeys, type CreatedKey } from "../../core/keys/bootstrap.ts";
import { cachedKeyStore } from "../../core/keys/cache.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import type { Log } from "../../core/log.ts";
import { createHttpTransport } from "../../core/providers/http-transport.ts";
import { createMockTransport } from "../../core/providers/mock/transport.ts";
import { createRegistryCache } from "../../core/registry/cache.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";

export interface PortableDepsOptions {
  config: GatewayConfig;
  /** The environment to read provider keys, base URLs and bootstrap keys from. */
  env: Record<string, string | undefined>;
  db: DatabaseSync;
  log: Log;
  registryTtlMs?: number | undefined;
  keepAliveMs?: number | undefined;
  onOutcome?: ((outcome: RequestOutcome) => void) | undefined;
}

export interface PortableDeps {
  deps: GatewayDeps;
  createdKeys: CreatedKey[];
  close(): Promise<void>;
}

/**
 * Wires the portable adapters (SQLite registry and keys, undici transport, in-process mock) into the
 * gateway's ports, applies the config and makes sure keys exist.
 */
export async function buildPortableDeps(opts: PortableDepsOptions): Promise<PortableDeps> {
  const { config, env, db } = opts;
  const registryStore = createSqliteRegistryStore(db);
  const keys = createSqliteKeyStore(db);
  const orgs = config.orgs.length > 0 ? config.orgs : [{ id: "default", name: "Default org" }];
  await registryStore.applyConfig({ providers: config.providers, models: config.models, orgs });
  const createdKeys = await bootstrapKeys(keys, {
    org: orgs[0]!.id,
    apiKey: env.GATEWAY_API_KEY || undefined,
    adminKey: env.GATEWAY_ADMIN_KEY || undefined,
    configured: config.keys,
    now: new Date().toISOString(),
  });

  const http = createHttpTransport();
  const deps: GatewayDeps = {
    registry: createRegistryCache(registryStore, opts.registryTtlMs ?? 1_000),
    keys: cachedKeyStore(keys, opts.registryTtlMs ?? 1_000),
    transports: { openai: http, anthropic: http, gemini: http, mock: createMockTransport() },
    credential: (p: ProviderConfig) => (p.apiKeyEnv ? env[p.apiKeyEnv] || undefined : undefined),
    baseUrl: (p: ProviderConfig) =>
      (p.baseUrlEnv && env[p.baseUrlEnv]) ||
      p.baseUrl ||
      (p.kind === "mock" ? "http://mock.invalid" : DEFAULT_BASE_URL[p.kind]),
    maxBodyBytes: config.server.maxBodyBytes,
    timeouts: config.server.timeouts,
    keepAliveMs: opts.keepAliveMs ?? 15_000,
    log: opts.log,
    now: Date.now,
    newId: randomUUID,
    onOutcome: opts.onOutcome,
  };
  return { deps, createdKeys, close: () => http.close() };
}
