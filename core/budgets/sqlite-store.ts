import type { DatabaseSync } from "node:sqlite";
import { addColumn, transaction } from "../storage/sqlite.ts";
import { groupCommitFor } from "../storage/sqlite-group-commit.ts";
import { counterStorageKey } from "./counters.ts";
import { limitNanos, nanos, reserveNanos, storedNanos, usdOf } from "./money.ts";
import type {
  BudgetStore,
  CounterRef,
  CounterSeed,
  ReservedFor,
  ReserveItem,
  ReserveResult,
  UnsettledReservation,
} from "./port.ts";
import { unsettledOf } from "./unsettled.ts";

/**
 * Both tables are keyed by text and WITHOUT ROWID: one B-tree each instead of a table plus its key index,
 * so a reservation dirties half the pages (and WAL frames) it otherwise would. Request ids are
 * time-ordered in portable mode, so reservations append at the B-tree's right edge. Amounts are
 * nano-dollars (money.ts) in `spent_nanos`; `spent_micros` holds what versions before nano-dollars
 * wrote, and counts in every sum.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_counters (
  scope TEXT NOT NULL,
  id TEXT NOT NULL,
  period_key TEXT NOT NULL,
  region TEXT NOT NULL,
  spent_micros INTEGER NOT NULL DEFAULT 0,
  spent_nanos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, id, period_key, region)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_reservations (
  request_id TEXT PRIMARY KEY,
  items TEXT NOT NULL,
  settled INTEGER NOT NULL DEFAULT 0,
  actual_micros INTEGER,
  actual_nanos INTEGER,
  reserved_for TEXT
) WITHOUT ROWID;
`;

export interface SqliteBudgetExtras {
  /** Commits pending settlements now (a graceful stop). */
  flush(): void;
  /**
   * Deletes up to `limit` reservation records, settled or never to be charged (interrupted.ts), whose request id sorts before `beforeRequestId`,
   * and returns how many. Portable request ids are time-ordered (UUIDv7), so that is an age cutoff; the
   * counters keep every amount, so a deleted record only ends its request's idempotency.
   */
  prune(beforeRequestId: string, limit: number): number;
  /**
   * Reservations never settled that know whose request they are for, oldest first. Read at start-up,
   * before any request, they are those of requests a stopped process never finished (interrupted.ts).
   * A row that cannot be read (written by hand, or damaged) is passed to `unreadable` and left as it is.
   * A scan, without an index: it runs once a start, and an index would cost every reservation a write.
   */
  unsettled(unreadable?: (id: string) => void): UnsettledReservation[];
}

/** The region name of a counter's seed row (CounterSeed); no instance's region is named so. */
export const SEED_REGION = "~seed";

/** Unsettled reservations an instance keeps in memory; far more than requests in flight. */
const MAX_REMEMBERED = 10_000;

/**
 * What a reservation remembers of each counter: enough to settle it later. `periodKey` is the counter's
 * storage key (counters.ts). Records written before nano-dollars hold `amountMicros` instead (money.ts
 * `storedNanos`).
 */
interface Reserved {
  scope: CounterRef["scope"];
  id: string;
  periodKey: string;
  amountNanos: number;
  amountMicros?: number;
}

/**
 * The portable-mode BudgetStore. `region` names this process's counter rows: one database shared by
 * instances with different region names enforces their sum, as the DynamoDB store does across regions.
 * Every read-check-write runs inside BEGIN IMMEDIATE, so a second process on the same file waits.
 */
export function createSqliteBudgetStore(
  db: DatabaseSync,
  region = "local",
  seed?: CounterSeed,
): BudgetStore & SqliteBudgetExtras {
  db.exec(SCHEMA);
  addColumn(db, "budget_counters", "spent_nanos", "INTEGER NOT NULL DEFAULT 0");
  addColumn(db, "budget_reservations", "actual_nanos", "INTEGER");
  addColumn(db, "budget_reservations", "reserved_for", "TEXT");
  const sum = db.prepare(
    `SELECT COALESCE(SUM(spent_micros * 1000 + spent_nanos), 0) AS n FROM budget_counters
     WHERE scope = ? AND id = ? AND period_key = ?`,
  );
  const add = db.prepare(
    // spent_micros is named: in a database from before nano-dollars it is NOT NULL without a default.
    `INSERT INTO budget_counters (scope, id, period_key, region, spent_micros, spent_nanos) VALUES (?, ?, ?, ?, 0, ?)
     ON CONFLICT (scope, id, period_key, region) DO UPDATE SET spent_nanos = spent_nanos + excluded.spent_nanos`,
  );
  const hasRows = db.prepare(
    "SELECT 1 FROM budget_counters WHERE scope = ? AND id = ? AND period_key = ? LIMIT 1",
  );
  // One row per counter, under a region name no instance has: whoever seeds first wins, the rest no-op.
  const addSeed = db.prepare(
    `INSERT INTO budget_counters (scope, id, period_key, region, spent_micros, spent_nanos)
     VALUES (?, ?, ?, '${SEED_REGION}', 0, ?) ON CONFLICT DO NOTHING`,
  );
  const findRes = db.prepare("SELECT items, settled FROM budget_reservations WHERE request_id = ?");
  const insertRes = db.prepare(
    "INSERT INTO budget_reservations (request_id, items, reserved_for) VALUES (?, ?, ?)",
  );
  const unsettledRes = db.prepare(
    `SELECT request_id, items, reserved_for FROM budget_reservations
     WHERE settled = 0 AND reserved_for IS NOT NULL ORDER BY request_id`,
  );
  // Not an unsettled one that says whose request it is: a request a stopped process never finished,
  // which the next start charges (interrupted.ts); deleted, its worst case would stay on its counter
  // uncounted. One from before reservations said so can never be charged, and goes with the rest.
  const pruneRes = db.prepare(
    `DELETE FROM budget_reservations WHERE request_id IN
       (SELECT request_id FROM budget_reservations
        WHERE request_id < ? AND (settled = 1 OR reserved_for IS NULL) LIMIT ?)`,
  );
  const settleRes = db.prepare(
    "UPDATE budget_reservations SET settled = 1, actual_nanos = ? WHERE request_id = ? AND settled = 0",
  );

  // Settlement runs after the response, so it waits for company in the connection's group commit
  // (sqlite-group-commit.ts). Until it commits, the counter still holds the reservation, never less than
  // the actual cost: limits stay safe.
  const commits = groupCommitFor(db);

  // Rows are keyed by the counter's storage key: its period, and its epoch when it has one.
  const spentNanos = (c: Pick<CounterRef, "scope" | "id" | "periodKey" | "epoch">): number =>
    Number((sum.get(c.scope, c.id, counterStorageKey(c)) as { n: number | bigint }).n);

  // What this instance reserved and has not settled: its own settlements then skip reading the row
  // back. Bounded (oldest dropped first), since a request that never settles must not leak memory; a
  // settlement missing here reads the row, as one for another instance's reservation does.
  const mine = new Map<string, Reserved[]>();
  const remember = (requestId: string, reserved: Reserved[]) => {
    if (mine.size >= MAX_REMEMBERED) mine.delete(mine.keys().next().value!);
    mine.set(requestId, reserved);
  };

  // Counters known to have rows: seeding is a first-reservation matter, so the check runs once each.
  const started = new Set<string>();
  const seedsOf = async (items: ReserveItem[]): Promise<Array<number | undefined>> => {
    if (!seed) return [];
    return Promise.all(
      items.map(async ({ counter: c }) => {
        const k = `${c.scope}\u0000${c.id}\u0000${counterStorageKey(c)}`;
        if (started.has(k)) return undefined;
        if (hasRows.get(c.scope, c.id, counterStorageKey(c))) {
          // Bounded: counters of past periods pile up; forgetting them all only costs a re-check each.
          if (started.size >= MAX_REMEMBERED) started.clear();
          started.add(k);
          return undefined;
        }
        return nanos(await seed(c));
      }),
    );
  };

  return {
    async reserve(
      requestId: string,
      items: ReserveItem[],
      reservedFor?: ReservedFor,
    ): Promise<ReserveResult> {
      let reserved: Reserved[] | undefined;
      const seeds = await seedsOf(items);
      // Reservations of requests that arrived together share one commit (and carry queued settlements).
      const result = await commits.soon((): ReserveResult => {
        // A retried reserve for the same request counts once.
        if (findRes.get(requestId)) return { ok: true };
        // Before the check: the period's earlier spend counts against this reservation already. Read
        // while the counter had no rows, it seeds it unless a seed is there (ON CONFLICT DO NOTHING),
        // also when another first reservation, which found none, committed in between.
        items.forEach(({ counter: c }, n) => {
          const amount = seeds[n];
          if (amount) addSeed.run(c.scope, c.id, counterStorageKey(c), amount);
        });
        for (const item of items) {
          const spent = spentNanos(item.counter);
          if (spent + reserveNanos(item.amountUsd) > limitNanos(item.limitUsd))
            return { ok: false, counter: item.counter, spentUsd: usdOf(spent), limitUsd: item.limitUsd };
        }
        reserved = items.map(({ counter: c, amountUsd }) => ({
          scope: c.scope,
          id: c.id,
          periodKey: counterStorageKey(c),
          amountNanos: reserveNanos(amountUsd),
        }));
        for (const r of reserved) add.run(r.scope, r.id, r.periodKey, region, r.amountNanos);
        insertRes.run(requestId, JSON.stringify(reserved), reservedFor ? JSON.stringify(reservedFor) : null);
        return { ok: true };
      });
      // Only once committed: a reservation whose commit failed was never made.
      if (reserved) remember(requestId, reserved);
      return result;
    },

    settle(requestId: string, actualUsd: number): Promise<void> {
      const actual = nanos(actualUsd);
      // A settlement made again (the cost aggregator's, from the usage event) mostly finds its
      // reservation settled and committed: one read then, rather than a job in the next commit.
      if (!mine.has(requestId)) {
        const row = findRes.get(requestId) as { settled: number } | undefined;
        if (row === undefined || row.settled === 1) return Promise.resolve();
      }
      return commits.run(() => {
        // The conditional update is the claim: a second settlement, here or elsewhere, changes nothing.
        if (Number(settleRes.run(actual, requestId).changes) === 0) return;
        const reserved =
          mine.get(requestId) ??
          (JSON.parse((findRes.get(requestId) as { items: string }).items) as Reserved[]);
        mine.delete(requestId);
        for (const r of reserved) add.run(r.scope, r.id, r.periodKey, region, actual - storedNanos(r));
      });
    },

    async spent(counter: CounterRef): Promise<number> {
      return usdOf(spentNanos(counter));
    },

    flush: () => commits.flush(),

    unsettled: (unreadable) =>
      (unsettledRes.all() as Array<{ request_id: string; items: string; reserved_for: string }>).flatMap(
        (r) => {
          const row = readUnsettled(r.request_id, r.items, r.reserved_for);
          if (!row) unreadable?.(r.request_id);
          return row ? [row] : [];
        },
      ),

    prune: (beforeRequestId, limit) =>
      transaction(db, () => Number(pruneRes.run(beforeRequestId, limit).changes)),
  };
}

/** An unsettled reservation's row, or undefined when it does not hold what a reservation writes. */
function readUnsettled(id: string, items: string, reservedFor: string): UnsettledReservation | undefined {
  try {
    return unsettledOf(id, JSON.parse(items), JSON.parse(reservedFor));
  } catch {
    return undefined;
  }
}
