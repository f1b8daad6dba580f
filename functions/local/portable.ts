import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../../core/api/errors.ts";
import type { GatewayConfig, ProviderConfig } from "../../core/config/types.ts";
import { authenticateAdmin } from "../../core/gateway/authenticate.ts";
import { outcomeFields } from "../../core/gateway/outcome.ts";
import { isEnabled } from "../../core/gateway/target.ts";
import type { RequestOutcome } from "../../core/gateway/types.ts";
import type { CreatedKey } from "../../core/keys/bootstrap.ts";
import type { Log } from "../../core/log.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { type AdminLambdaHandler, createAdminHandler } from "../admin-handler.ts";
import { createRouterHandler } from "../router.ts";
import { DATABASE_FILE, lockDataDir } from "./data-dir-lock.ts";
import { buildPortableDeps } from "./deps.ts";
import { installLambdaRuntime, isStreaming, type StreamingHandler } from "./lambda-runtime.ts";
import type { MetricsEndpoint } from "./metrics-route.ts";
import { createPrometheusMetrics, type PrometheusMetrics } from "./prometheus.ts";
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
  keepAliveMs?: number | undefined;
  onOutcome?: (outcome: RequestOutcome) => void;
}

export interface PortableGateway {
  url: string;
  port: number;
  createdKeys: CreatedKey[];
  /** The providers that are off (no credential in the environment), for the start-up banner. */
  providersOff(): Promise<ProviderConfig[]>;
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
  let built: Awaited<ReturnType<typeof buildPortableDeps>> | undefined;
  let server: LocalServer | undefined;
  let app: App | undefined;
  let ready!: (app: App) => void;
  let failed!: (err: unknown) => void;
  const wired = new Promise<App>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  // A start that fails answers its waiting callers 500 (server.ts); nobody else awaits this.
  wired.catch(() => undefined);
  try {
    // Listening comes first: a start whose port is taken (or whose address is not local) fails before it
    // has made anything (keys, the audit signing key). Callers who connect meanwhile wait for `wired`.
    server = await startLocalServer({
      handler: (event, stream, context) => app!.handler(event, stream, context),
      adminHandler: (event, context) => app!.admin(event, context),
      metrics: {
        render: () => app!.metrics.render(),
        get contentType() {
          return app!.metrics.contentType;
        },
        authorize: (headers, requestId) => app!.metrics.authorize(headers, requestId),
      },
      ready: wired,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 8787,
      maxBodyBytes: opts.config.server.maxBodyBytes,
    });
    db = openDatabase(join(opts.dataDir, DATABASE_FILE));
    let metrics: PrometheusMetrics | undefined;
    // One request line per request, through the same redaction as every other line.
    const log = redactingLog(opts.log);
    const deps = await buildPortableDeps({
      ...opts,
      db,
      onOutcome: (o) => {
        log.info("request", outcomeFields(o));
        try {
          metrics?.observe(o);
        } catch (err) {
          // A metric prom-client refuses must not cost the request its log line, nor its caller anything.
          log.error("metrics could not count a request", { requestId: o.requestId, error: String(err) });
        }
        opts.onOutcome?.(o);
      },
    });
    built = deps;
    metrics = createPrometheusMetrics(deps.deps.breakers, deps.budgetReadings);
    for (const c of deps.interrupted) metrics.charged(c.org, c.costUsd);
    installLambdaRuntime();
    const handler = createRouterHandler(deps.deps);
    const admin = createAdminHandler(deps.admin);
    if (!isStreaming(handler)) throw new Error("router handler is not a streaming handler");
    app = {
      handler,
      admin: (event, context) => admin(event, context),
      metrics: {
        ...metrics,
        authorize: async (headers, requestId) => {
          try {
            return await authenticateAdmin(headers, deps.deps.keys);
          } catch (err) {
            // A key guessed at /metrics is audited like one guessed at the API (auth.failure).
            if (err instanceof GatewayError && (err.status === 401 || err.status === 403))
              await deps.admin.onAuthFailure?.({ requestId, endpoint: "/metrics", headers });
            throw err;
          }
        },
      },
    };
    ready(app);
    const listening = server;
    return {
      url: listening.url,
      port: listening.port,
      createdKeys: deps.createdKeys,
      providersOff: async () => {
        const on = isEnabled(deps.deps);
        return [...(await deps.deps.registry.get()).providers.values()].filter((p) => !on(p));
      },
      drainEvents: (timeoutMs) => deps.bus.drain(timeoutMs),
      drainAudit: (timeoutMs) => deps.auditQueue.drain(timeoutMs),
      async close() {
        await listening.close();
        await deps.close();
        db?.close();
        lock.release();
      },
    };
  } catch (err) {
    failed(err);
    if (server) {
      // The build may have held the event loop (a SQLite busy wait): callers who connected meanwhile
      // are accepted and read in the next turns, and answered 500, before the server closes.
      await new Promise((resolve) => setTimeout(resolve, FAILED_START_ANSWER_MS));
      await server.close();
    }
    if (built) {
      // Keys generated by a start that then failed were never shown: removed, so the next start
      // generates and prints them, instead of locking the operator out.
      for (const k of built.createdKeys) await built.deps.keys.remove(k.id).catch(() => false);
      await built.abandon().catch(() => undefined);
    }
    db?.close();
    lock.release();
    throw err;
  }
}

/** How long a failed start keeps listening, to answer the callers who came while it was built. */
const FAILED_START_ANSWER_MS = 100;

/** What the server calls once the gateway is built. */
interface App {
  handler: StreamingHandler;
  admin: AdminLambdaHandler;
  metrics: MetricsEndpoint;
}
