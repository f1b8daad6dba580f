import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { AdminDeps } from "../../core/admin/dispatch.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import type { CreatedKey } from "../../core/keys/bootstrap.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import type { Log } from "../../core/log.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { createGatewayDeps } from "../shared/gateway-deps.ts";
import { seedStores } from "../shared/seed.ts";
import type { BudgetReading } from "./prometheus.ts";
import { createPortableSpend } from "./spend.ts";

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
  /** The admin API over the same stores the router reads. */
  admin: AdminDeps;
  createdKeys: CreatedKey[];
  /** The local event bus: tests drain it to see usage counted. */
  bus: { drain(timeoutMs: number): Promise<boolean> };
  budgetReadings(): Promise<BudgetReading[]>;
  close(): Promise<void>;
}

/** Portable mode's stores are SQLite; the config file is applied and keys bootstrapped at every start. */
export async function buildPortableDeps(opts: PortableDepsOptions): Promise<PortableDeps> {
  const { config, env, db } = opts;
  const registry = createSqliteRegistryStore(db);
  const keys = createSqliteKeyStore(db);
  const createdKeys = await seedStores(registry, keys, config, env);
  const spend = createPortableSpend(db, registry, keys, opts.log, config.server.alerts?.webhookUrl);
  spend.bus.start();
  const wired = createGatewayDeps({
    registry,
    keys,
    env,
    region: "local",
    budgets: spend.budgets,
    rateLimits: spend.rateLimits,
    events: spend.bus,
    maxBodyBytes: config.server.maxBodyBytes,
    timeouts: config.server.timeouts,
    log: opts.log,
    cacheTtlMs: opts.registryTtlMs,
    keepAliveMs: opts.keepAliveMs,
    onOutcome: opts.onOutcome,
  });
  const admin: AdminDeps = {
    registry,
    // The router's cached key store: a revoked key stops working in this process at once.
    keys: wired.deps.keys,
    log: opts.log,
    spend: spend.spend,
    newId: randomUUID,
    now: Date.now,
  };
  return {
    deps: wired.deps,
    admin,
    createdKeys,
    bus: spend.bus,
    budgetReadings: spend.budgetReadings,
    async close() {
      await spend.bus.stop();
      await wired.close();
    },
  };
}
