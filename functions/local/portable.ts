import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_BASE_URL } from "../../core/config/defaults.ts";
import type { GatewayConfig, ProviderConfig } from "../../core/config/types.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import { bootstrapKeys, type CreatedKey } from "../../core/keys/bootstrap.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import type { Log } from "../../core/log.ts";
import { createHttpTransport } from "../../core/providers/http-transport.ts";
import { createMockTransport } from "../../core/providers/mock/transport.ts";
import { createRegistryCache } from "../../core/registry/cache.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { createRouterHandler } from "../router.ts";
import { installLambdaRuntime, isStreaming } from "./lambda-runtime.ts";
import { type LocalServer, startLocalServer } from "./server.ts";

export interface PortableOptions {
  config: GatewayConfig;
  /** The environment to read provider keys, base URLs and bootstrap keys from. */
  env: Record<string, string | undefined>;
  dataDir: string;
  host?: string;
  port?: number;
  log: Log;
  /** Registry cache TTL: how fast a registry change reaches this process. */
  registryTtlMs?: number;
  keepAliveMs?: number;
  onOutcome?: (outcome: RequestOutcome) => void;
}

export interface PortableGateway {
  url: string;
  port: number;
  createdKeys: CreatedKey[];
  close(): Promise<void>;
}

/** Composition root of portable mode: SQLite stores, undici transport, the router Lambda handler over node:http. */
export async function startPortable(opts: PortableOptions): Promise<PortableGateway> {
  const { config, env } = opts;
  const db = openDatabase(join(opts.dataDir, "gateway.sqlite"));
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
    keys,
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

  installLambdaRuntime();
  const handler = createRouterHandler(deps);
  if (!isStreaming(handler)) throw new Error("router handler is not a streaming handler");
  let server: LocalServer;
  try {
    server = await startLocalServer({
      handler,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 8787,
      maxBodyBytes: config.server.maxBodyBytes,
    });
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    url: server.url,
    port: server.port,
    createdKeys,
    async close() {
      await server.close();
      await http.close();
      db.close();
    },
  };
}
