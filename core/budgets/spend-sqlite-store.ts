import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { UsageDetail } from "../events/usage.ts";
import { addColumn, transaction } from "../storage/sqlite.ts";
import { usdOf } from "./money.ts";
import { sumUsage } from "./rollup-sums.ts";
import {
  CLAIM_LEASE_MS,
  type SpendQuery,
  type SpendRow,
  type SpendStore,
  type SpendStoreOptions,
} from "./spend-port.ts";

/**
 * `spend_processed` is WITHOUT ROWID: its key is its only column, one B-tree rather than two. Costs are
 * nano-dollars (money.ts) in `cost_nanos`; `cost_micros` holds what versions before nano-dollars wrote,
 * and counts in every sum.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS spend_processed (request_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spend_rollups (
  day TEXT NOT NULL,
  org TEXT NOT NULL,
  key_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL DEFAULT 0,
  cost_nanos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, org, key_id, provider, model)
);
CREATE TABLE IF NOT EXISTS spend_periods (
  scope TEXT NOT NULL,
  id TEXT NOT NULL,
  period_key TEXT NOT NULL,
  cost_micros INTEGER NOT NULL DEFAULT 0,
  cost_nanos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, id, period_key)
);
CREATE TABLE IF NOT EXISTS spend_thresholds (key TEXT PRIMARY KEY);
`;

interface Row {
  day: string;
  org: string;
  key_id: string;
  provider: string;
  model: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_micros: number;
  cost_nanos: number;
}

/**
 * The portable-mode SpendStore. `record` claims the request id and adds to the rollups in one
 * transaction: a redelivered event finds its id taken and changes nothing.
 */
export function createSqliteSpendStore(
  db: DatabaseSync,
  options: SpendStoreOptions = {},
): SpendStore & {
  /**
   * Deletes up to `limit` processed-event markers whose request id sorts before `beforeRequestId` and
   * returns how many. Portable request ids are time-ordered, so that is an age cutoff; but a marker stays
   * while its event is still in the local bus's outbox (in the same database), however old: the bus may
   * deliver it again (a retry behind its cursor, kept across restarts; a dead event redriven), and
   * without its marker it would be counted twice.
   */
  prune(beforeRequestId: string, limit: number): number;
  /** Threshold claims taken before `before` (an ISO time), up to `limit` of them; returns how many. */
  pruneClaims(before: string, limit: number): number;
} {
  db.exec(SCHEMA);
  const claimLeaseMs = options.claimLeaseMs ?? CLAIM_LEASE_MS;
  addColumn(db, "spend_rollups", "cost_nanos", "INTEGER NOT NULL DEFAULT 0");
  addColumn(db, "spend_periods", "cost_nanos", "INTEGER NOT NULL DEFAULT 0");
  // Claims from before owners have none: no owner takes them again, as none could before.
  addColumn(db, "spend_thresholds", "owner", "TEXT");
  addColumn(db, "spend_thresholds", "published", "INTEGER NOT NULL DEFAULT 0");
  addColumn(db, "spend_thresholds", "claimed_at", "INTEGER");
  const claim = db.prepare("INSERT INTO spend_processed (request_id) VALUES (?) ON CONFLICT DO NOTHING");
  const rollup = db.prepare(
    // cost_micros is named: in a database from before nano-dollars it is NOT NULL without a default.
    `INSERT INTO spend_rollups
       (day, org, key_id, provider, model, requests, input_tokens, output_tokens, cost_micros, cost_nanos)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
     ON CONFLICT (day, org, key_id, provider, model) DO UPDATE SET requests = requests + excluded.requests,
       input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
       cost_nanos = cost_nanos + excluded.cost_nanos`,
  );
  const period = db.prepare(
    `INSERT INTO spend_periods (scope, id, period_key, cost_micros, cost_nanos) VALUES (?, ?, ?, 0, ?)
     ON CONFLICT (scope, id, period_key) DO UPDATE SET cost_nanos = cost_nanos + excluded.cost_nanos`,
  );
  const periodOf = db.prepare(
    "SELECT cost_micros * 1000 + cost_nanos AS n FROM spend_periods WHERE scope = ? AND id = ? AND period_key = ?",
  );
  // A claim is taken when absent, or again by its owner while its alert is not marked published and
  // its lease has run out (spend-port.ts CLAIM_LEASE_MS); claims from before leases have none.
  const mark = db.prepare(
    `INSERT INTO spend_thresholds (key, owner, claimed_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE
     SET claimed_at = excluded.claimed_at
     WHERE owner = excluded.owner AND published = 0 AND (claimed_at IS NULL OR claimed_at <= ?)`,
  );
  const published = db.prepare("UPDATE spend_thresholds SET published = 1 WHERE key = ? AND owner = ?");
  const release = db.prepare("DELETE FROM spend_thresholds WHERE key = ? AND owner = ? AND published = 0");
  const marked = db.prepare("SELECT 1 AS found FROM spend_thresholds WHERE key = ?");
  // Claims from before leases (no claimed_at) stay: nothing says when they were taken.
  const pruneClaimed = db.prepare(
    `DELETE FROM spend_thresholds WHERE key IN
       (SELECT key FROM spend_thresholds WHERE claimed_at < ? LIMIT ?)`,
  );
  // Prepared at the first prune: the outbox's table is the bus's to make, and a store on a database
  // without a bus (a test, a tool) has no events to keep markers for.
  let pruneProcessed: StatementSync | undefined;
  const pruneStatement = (): StatementSync => {
    const outbox = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_outbox'")
      .get();
    return db.prepare(
      `DELETE FROM spend_processed WHERE request_id IN
         (SELECT request_id FROM spend_processed p WHERE request_id < ?
           ${outbox ? "AND NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.id = p.request_id)" : ""} LIMIT ?)`,
    );
  };

  /** Claims each event's request id; only the events claimed here add to the sums. */
  const recordAll = (usages: UsageDetail[]): boolean[] => {
    const counted = usages.map((u) => Number(claim.run(u.requestId).changes) > 0);
    const { rollups, periods } = sumUsage(usages.filter((_, i) => counted[i]));
    for (const r of rollups)
      rollup.run(
        r.day,
        r.org,
        r.keyId,
        r.provider,
        r.model,
        r.requests,
        r.inputTokens,
        r.outputTokens,
        r.costNanos,
      );
    for (const p of periods) period.run(p.scope, p.id, p.periodKey, p.costNanos);
    return counted;
  };

  return {
    async record(u: UsageDetail): Promise<boolean> {
      return transaction(db, () => recordAll([u])[0]!);
    },

    /**
     * A batch in one transaction: one commit for many events (the local bus delivers them so), and one
     * write per rollup row and period rather than one per event.
     */
    async recordMany(usages: UsageDetail[]): Promise<boolean[]> {
      return transaction(db, () => recordAll(usages));
    },

    async query(q: SpendQuery): Promise<SpendRow[]> {
      const where = ["day >= ?", "day <= ?"];
      const args: SQLInputValue[] = [q.from, q.to];
      for (const [column, value] of [
        ["org", q.org],
        ["key_id", q.keyId],
        ["model", q.model],
      ] as const) {
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        args.push(value);
      }
      const rows = db
        .prepare(
          `SELECT * FROM spend_rollups WHERE ${where.join(" AND ")} ORDER BY day, org, key_id, provider, model`,
        )
        .all(...args) as unknown as Row[];
      return rows.map((r) => ({
        day: r.day,
        org: r.org,
        keyId: r.key_id,
        model: r.model,
        provider: r.provider,
        requests: Number(r.requests),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        costUsd: usdOf(Number(r.cost_micros) * 1e3 + Number(r.cost_nanos)),
      }));
    },

    async periodSpend(scope: "org" | "key", id: string, periodKey: string): Promise<number> {
      const row = periodOf.get(scope, id, periodKey) as { n: number } | undefined;
      return usdOf(Number(row?.n ?? 0));
    },

    prune(beforeRequestId, limit) {
      pruneProcessed ??= pruneStatement();
      const statement = pruneProcessed;
      return transaction(db, () => Number(statement.run(beforeRequestId, limit).changes));
    },

    pruneClaims: (before, limit) =>
      transaction(db, () => Number(pruneClaimed.run(Date.parse(before), limit).changes)),

    async markThreshold(key: string, owner: string): Promise<boolean> {
      const now = Date.now();
      return Number(mark.run(key, owner, now, now - claimLeaseMs).changes) > 0;
    },

    async thresholdPublished(key: string, owner: string): Promise<void> {
      published.run(key, owner);
    },

    async hasThreshold(key: string): Promise<boolean> {
      return marked.get(key) !== undefined;
    },

    async releaseThreshold(key: string, owner: string): Promise<void> {
      release.run(key, owner);
    },
  };
}
