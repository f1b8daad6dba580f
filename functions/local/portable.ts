import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../../core/api/errors.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import { authenticateAdmin } from "../../core/gateway/authenticate.ts";
import { outcomeFields } from "../../core/gateway/outcome.ts";
import type { RequestOutcome } from "../../core/gateway/types.ts";
import type { CreatedKey } from "../../core/keys/bootstrap.ts";
import type { Log } from "../../core/log.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { createAdminHandler } from "../admin-handler.ts";
import { createRouterHandler } from "../router.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { buildPortableDeps } from "./deps.ts";
import { installLambdaRuntime, isStreaming } from "./lambda-runtime.ts";
import { createPrometheusMetrics, type PrometheusMetrics } from "./prometheus.ts";
import { startLocalServer } from "./server.ts";

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
  keepAliveMs?: number | undefined;
  onOutcome?: (outcome: RequestOutcome) => void;
}

export interface PortableGateway {
  url: string;
  port: number;
  createdKeys: CreatedKey[];
  /** Waits until the local bus has delivered every event (usage counted, alerts sent). */
  drainEvents(timeoutMs: number): Promise<boolean>;
  /** Waits until every audit record is written to its chain. */
  drainAudit(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Portable mode: the router Lambda handler (streaming) and the admin Lambda handler (buffered, for
 * `/admin/...`), wired to SQLite, served over node:http.
 */
export async function startPortable(opts: PortableOptions): Promise<PortableGateway> {
  const lock = lockDataDir(opts.dataDir);
  let db: DatabaseSync | undefined;
  try {
    db = openDatabase(join(opts.dataDir, "gateway.sqlite"));
    let metrics: PrometheusMetrics | undefined;
    // One request line per request, through the same redaction as every other line.
    const log = redactingLog(opts.log);
    const wired = await buildPortableDeps({
      ...opts,
      db,
      onOutcome: (o) => {
        log.info("request", outcomeFields(o));
        metrics?.observe(o);
        opts.onOutcome?.(o);
      },
    });
    metrics = createPrometheusMetrics(wired.deps.breakers, wired.budgetReadings);
    installLambdaRuntime();
    const handler = createRouterHandler(wired.deps);
    const admin = createAdminHandler(wired.admin);
    if (!isStreaming(handler)) throw new Error("router handler is not a streaming handler");
    const server = await startLocalServer({
      handler,
      adminHandler: (event, context) => admin(event, context),
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 8787,
      maxBodyBytes: opts.config.server.maxBodyBytes,
      metrics: {
        ...metrics,
        authorize: async (headers) => {
          try {
            return await authenticateAdmin(headers, wired.deps.keys);
          } catch (err) {
            // A key guessed at /metrics is audited like one guessed at the API (auth.failure).
            if (err instanceof GatewayError && (err.status === 401 || err.status === 403))
              await wired.admin.onAuthFailure?.({ requestId: randomUUID(), endpoint: "/metrics", headers });
            throw err;
          }
        },
      },
    });
    return {
      url: server.url,
      port: server.port,
      createdKeys: wired.createdKeys,
      drainEvents: (timeoutMs) => wired.bus.drain(timeoutMs),
      drainAudit: (timeoutMs) => wired.auditQueue.drain(timeoutMs),
      async close() {
        await server.close();
        await wired.close();
        db?.close();
        lock.release();
      },
    };
  } catch (err) {
    db?.close();
    lock.release();
    throw err;
  }
}
