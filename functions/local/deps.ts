import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { AdminDeps } from "../../core/admin/dispatch.ts";
import { adminChangeRecord } from "../../core/audit/changes.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import { authFailureRecord } from "../../core/gateway/audit.ts";
import { auditInterrupted } from "../../core/gateway/interrupted-audit.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import type { CreatedKey } from "../../core/keys/bootstrap.ts";
import { createSqliteKeyStore } from "../../core/keys/sqlite-store.ts";
import type { Log } from "../../core/log.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { expiringOnWrite } from "../../core/registry/cache.ts";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { unservedRegions } from "../../core/registry/unserved-regions.ts";
import { groupCommitFor } from "../../core/storage/sqlite-group-commit.ts";
import { createGatewayDeps } from "../shared/gateway-deps.ts";
import { providerEnv } from "../shared/provider-env.ts";
import { seedStores } from "../shared/seed.ts";
import { createPortableAudit } from "./audit.ts";
import type { BudgetReading } from "./prometheus.ts";
import { startRetention } from "./retention.ts";
import { createPortableSpend, type InterruptedCharge } from "./spend.ts";

export interface PortableDepsOptions {
  config: GatewayConfig;
  /** The environment to read provider keys, base URLs and bootstrap keys from. */
  env: Record<string, string | undefined>;
  db: DatabaseSync;
  /** Where the audit signing key lives (`audit-signing-key.pem`). */
  dataDir: string;
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
  /** What this start charged requests the last process never finished: `/metrics` counts it. */
  interrupted: InterruptedCharge[];
  budgetReadings(): Promise<BudgetReading[]>;
  /** The audit queue: tests drain it to see records written. */
  auditQueue: { drain(timeoutMs: number): Promise<boolean> };
  close(): Promise<void>;
  /** Stops what a start that failed had begun, without signing the audit chains (see audit.ts). */
  abandon(): Promise<void>;
}

/** Portable mode's stores are SQLite; the config file is applied and keys bootstrapped at every start. */
export async function buildPortableDeps(opts: PortableDepsOptions): Promise<PortableDeps> {
  const { config, env, db } = opts;
  const registry = createSqliteRegistryStore(db);
  const keys = createSqliteKeyStore(db);
  const log = redactingLog(opts.log);
  const audit = await createPortableAudit(db, opts.dataDir, log);
  // A config the stores refuse (a provider dropped that an admin-made model uses) fails the start here.
  const createdKeys = await seedStores(registry, keys, config, env, audit.queue).catch(
    async (err: unknown) => {
      await audit.abandon();
      throw err;
    },
  );
  for (const unserved of unservedRegions(await registry.load()))
    log.warn("an org allows a region no provider or target is in: its requests there are refused", unserved);
  const spend = createPortableSpend(db, registry, keys, log, config.server.alerts?.webhookUrl);
  const interrupted = await spend.chargeInterrupted((charges) =>
    auditInterrupted(
      charges,
      async (org) => (await registry.get("org", org))?.doc.sensitive === true,
      audit.queue,
      log,
    ),
  );
  spend.bus.start();
  const retention = startRetention(
    {
      events: spend.bus,
      reservations: spend.budgets,
      processed: spend.spend,
      claims: { prune: (before, limit) => spend.spend.pruneClaims(before, limit) },
    },
    log,
  );
  const wired = createGatewayDeps({
    registry,
    keys,
    env: providerEnv(env, config.providers),
    region: "local",
    budgets: spend.budgets,
    rateLimits: spend.rateLimits,
    events: spend.bus,
    audit: audit.queue,
    maxBodyBytes: config.server.maxBodyBytes,
    timeouts: config.server.timeouts,
    log: opts.log,
    cacheTtlMs: opts.registryTtlMs,
    keepAliveMs: opts.keepAliveMs,
    onOutcome: opts.onOutcome,
  });
  const admin: AdminDeps = {
    // The router's registry cache expires on each admin write: a change applies to the next request.
    registry: expiringOnWrite(registry, wired.deps.registry),
    // The router's cached key store: a revoked key stops working in this process at once.
    keys: wired.deps.keys,
    log,
    spend: spend.spend,
    audit: { store: audit.store, signer: audit.signer },
    // In the write's own commit (a kill cannot come between them), then as on AWS: one record either way.
    recordWithin: (change) => audit.queue.appendNow([adminChangeRecord(change, Date.now())]),
    onChange: (change) => audit.queue.enqueue([adminChangeRecord(change, Date.now())]),
    // Sampled with the router's auth failures: one rate for every endpoint a key is guessed at.
    onAuthFailure: ({ requestId, endpoint, headers }) => {
      const record = authFailureRecord(
        requestId,
        endpoint,
        headers,
        Date.now(),
        wired.deps.authFailureSampler,
      );
      if (record) return audit.queue.enqueue([record]);
    },
    newId: randomUUID,
    now: Date.now,
    sleep: wired.deps.sleep,
    random: wired.deps.random,
  };
  async function stop(closeAudit: () => Promise<void>) {
    await retention.stop();
    // From here, writes another process's lock keeps out are given up (and logged), not kept: the
    // stop must not wait for as long as that lock is held.
    groupCommitFor(opts.db).stop();
    await spend.bus.stop();
    spend.budgets.flush();
    await closeAudit();
    await wired.close();
  }
  return {
    deps: wired.deps,
    admin,
    createdKeys,
    bus: spend.bus,
    interrupted,
    budgetReadings: spend.budgetReadings,
    auditQueue: audit.queue,
    close: () => stop(() => audit.close()),
    abandon: () => stop(() => audit.abandon()),
  };
}
