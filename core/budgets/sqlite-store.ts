import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../storage/sqlite.ts";
import { groupCommitFor } from "../storage/sqlite-group-commit.ts";
import type { BudgetStore, CounterRef, ReserveItem, ReserveResult } from "./port.ts";

/**
 * Amounts are integer micro-dollars (USD × 1e6) so that thousands of small ADDs never drift. A
 * reservation rounds up (never under-reserve), a limit rounds down (never over-allow); the detour
 * through nano-dollars drops binary noise first (0.07 × 1e6 = 70000.00000000001 must not become 70001).
 */
export const reserveMicros = (usd: number): number => Math.ceil(Math.round(usd * 1e9) / 1e3);
export const limitMicros = (usd: number): number => Math.floor(Math.round(usd * 1e9) / 1e3);
export const micros = (usd: number): number => Math.round(usd * 1e6);

/**
 * Both tables are keyed by text and WITHOUT ROWID: one B-tree each instead of a table plus its key index,
 * so a reservation dirties half the pages (and WAL frames) it otherwise would. Request ids are
 * time-ordered in portable mode, so reservations append at the B-tree's right edge.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_counters (
  scope TEXT NOT NULL,
  id TEXT NOT NULL,
  period_key TEXT NOT NULL,
  region TEXT NOT NULL,
  spent_micros INTEGER NOT NULL,
  PRIMARY KEY (scope, id, period_key, region)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_reservations (
  request_id TEXT PRIMARY KEY,
  items TEXT NOT NULL,
  settled INTEGER NOT NULL DEFAULT 0,
  actual_micros INTEGER
) WITHOUT ROWID;
`;

export interface SqliteBudgetExtras {
  /** Commits pending settlements now (a graceful stop). */
  flush(): void;
  /**
   * Deletes up to `limit` reservation records whose request id sorts before `beforeRequestId`, and
   * returns how many. Portable request ids are time-ordered (UUIDv7), so that is an age cutoff; the
   * counters keep every amount, so a deleted record only ends its request's idempotency.
   */
  prune(beforeRequestId: string, limit: number): number;
}

/** Unsettled reservations an instance keeps in memory; far more than requests in flight. */
const MAX_REMEMBERED = 10_000;

/** What a reservation remembers of each counter: enough to settle it later. */
interface Reserved {
  scope: CounterRef["scope"];
  id: string;
  periodKey: string;
  amountMicros: number;
}

/**
 * The portable-mode BudgetStore. `region` names this process's counter rows: one database shared by
 * instances with different region names enforces their sum, as the DynamoDB store does across regions.
 * Every read-check-write runs inside BEGIN IMMEDIATE, so a second process on the same file waits.
 */
export function createSqliteBudgetStore(
  db: DatabaseSync,
  region = "local",
): BudgetStore & SqliteBudgetExtras {
  db.exec(SCHEMA);
  const sum = db.prepare(
    "SELECT COALESCE(SUM(spent_micros), 0) AS n FROM budget_counters WHERE scope = ? AND id = ? AND period_key = ?",
  );
  const add = db.prepare(
    `INSERT INTO budget_counters (scope, id, period_key, region, spent_micros) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope, id, period_key, region) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros`,
  );
  const findRes = db.prepare("SELECT items, settled FROM budget_reservations WHERE request_id = ?");
  const insertRes = db.prepare("INSERT INTO budget_reservations (request_id, items) VALUES (?, ?)");
  const pruneRes = db.prepare(
    `DELETE FROM budget_reservations WHERE request_id IN
       (SELECT request_id FROM budget_reservations WHERE request_id < ? LIMIT ?)`,
  );
  const settleRes = db.prepare(
    "UPDATE budget_reservations SET settled = 1, actual_micros = ? WHERE request_id = ? AND settled = 0",
  );

  // Settlement runs after the response, so it waits for company in the connection's group commit
  // (sqlite-group-commit.ts). Until it commits, the counter still holds the reservation, never less than
  // the actual cost: limits stay safe.
  const commits = groupCommitFor(db);

  const spentMicros = (c: Pick<CounterRef, "scope" | "id" | "periodKey">): number =>
    Number((sum.get(c.scope, c.id, c.periodKey) as { n: number | bigint }).n);

  // What this instance reserved and has not settled: its own settlements then skip reading the row
  // back. Bounded (oldest dropped first), since a request that never settles must not leak memory; a
  // settlement missing here reads the row, as one for another instance's reservation does.
  const mine = new Map<string, Reserved[]>();
  const remember = (requestId: string, reserved: Reserved[]) => {
    if (mine.size >= MAX_REMEMBERED) mine.delete(mine.keys().next().value!);
    mine.set(requestId, reserved);
  };

  return {
    async reserve(requestId: string, items: ReserveItem[]): Promise<ReserveResult> {
      let reserved: Reserved[] | undefined;
      // Reservations of requests that arrived together share one commit (and carry queued settlements).
      const result = await commits.soon((): ReserveResult => {
        // A retried reserve for the same request counts once.
        if (findRes.get(requestId)) return { ok: true };
        for (const item of items) {
          const spent = spentMicros(item.counter);
          if (spent + reserveMicros(item.amountUsd) > limitMicros(item.limitUsd))
            return { ok: false, counter: item.counter, spentUsd: spent / 1e6, limitUsd: item.limitUsd };
        }
        reserved = items.map(({ counter: c, amountUsd }) => ({
          scope: c.scope,
          id: c.id,
          periodKey: c.periodKey,
          amountMicros: reserveMicros(amountUsd),
        }));
        for (const r of reserved) add.run(r.scope, r.id, r.periodKey, region, r.amountMicros);
        insertRes.run(requestId, JSON.stringify(reserved));
        return { ok: true };
      });
      // Only once committed: a reservation whose commit failed was never made.
      if (reserved) remember(requestId, reserved);
      return result;
    },

    settle(requestId: string, actualUsd: number): Promise<void> {
      const actual = micros(actualUsd);
      return commits.run(() => {
        // The conditional update is the claim: a second settlement, here or elsewhere, changes nothing.
        if (Number(settleRes.run(actual, requestId).changes) === 0) return;
        const reserved =
          mine.get(requestId) ??
          (JSON.parse((findRes.get(requestId) as { items: string }).items) as Reserved[]);
        mine.delete(requestId);
        for (const r of reserved) add.run(r.scope, r.id, r.periodKey, region, actual - r.amountMicros);
      });
    },

    async spent(counter: CounterRef): Promise<number> {
      return spentMicros(counter) / 1e6;
    },

    flush: () => commits.flush(),

    prune: (beforeRequestId, limit) =>
      transaction(db, () => Number(pruneRes.run(beforeRequestId, limit).changes)),
  };
}
