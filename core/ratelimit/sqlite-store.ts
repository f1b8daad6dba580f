import type { DatabaseSync } from "node:sqlite";
import { groupCommitFor } from "../storage/sqlite-group-commit.ts";
import { type RateBucket, type RateDecision, type RateLimitStore, WINDOW_MS, windowStart } from "./port.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_buckets (
  name TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (name, window_start)
);
CREATE INDEX IF NOT EXISTS rate_buckets_window ON rate_buckets (window_start);
`;

/** What is left of a bucket; `adjust` may push `used` past the limit (or below 0), reads clamp. */
const remainingOf = (limit: number, used: number): number => Math.max(0, Math.min(limit, limit - used));

/** Rows of windows this old are dead: a window lives one minute, adjusts arrive within a few more. */
const KEEP_MS = 3 * WINDOW_MS;

/**
 * The portable-mode RateLimitStore: one row per bucket per fixed minute window. `consume` reads and
 * writes every bucket inside one BEGIN IMMEDIATE transaction, so it takes all buckets or none, also
 * against another process on the same database file. Old windows are swept once per window.
 */
export function createSqliteRateLimitStore(db: DatabaseSync): RateLimitStore {
  db.exec(SCHEMA);
  const usedOf = db.prepare("SELECT used FROM rate_buckets WHERE name = ? AND window_start = ?");
  const add = db.prepare(
    `INSERT INTO rate_buckets (name, window_start, used) VALUES (?, ?, ?)
     ON CONFLICT (name, window_start) DO UPDATE SET used = used + excluded.used`,
  );
  const sweep = db.prepare("DELETE FROM rate_buckets WHERE window_start < ?");
  let sweptWindow = Number.NEGATIVE_INFINITY;

  const commits = groupCommitFor(db);
  const read = (name: string, start: number): number =>
    Number((usedOf.get(name, start) as { used: number | bigint } | undefined)?.used ?? 0);

  return {
    async consume(buckets: RateBucket[], now: number): Promise<RateDecision> {
      const start = windowStart(now);
      const resetAt = start + WINDOW_MS;
      // Decisions of requests that arrived together share one commit (sqlite-group-commit.ts).
      return commits.soon((): RateDecision => {
        if (start !== sweptWindow) {
          // Old as seen from the earlier of this window and the one before: a clock stepped ahead for a
          // moment (NTP, a resumed VM) then sweeps only what was old before the step, not the live
          // window's counts (whose limits would start again from 0 once the clock is back), and the
          // sweep goes on as soon as the clock is back, not once real time has caught up with the step.
          const from = Math.min(start, sweptWindow === Number.NEGATIVE_INFINITY ? start : sweptWindow);
          sweptWindow = start;
          sweep.run(from - KEEP_MS);
        }
        const used = buckets.map((b) => read(b.name, start));
        const refused = buckets.find((b, i) => (used[i] ?? 0) + b.amount > b.limit);
        if (!refused) for (const b of buckets) add.run(b.name, start, b.amount);
        const remaining: Record<string, number> = {};
        for (const [i, b] of buckets.entries())
          remaining[b.name] = remainingOf(b.limit, (used[i] ?? 0) + (refused ? 0 : b.amount));
        return { ok: !refused, remaining, refusedBy: refused?.name, resetAt };
      });
    },

    /** Runs after the response: the correction waits for company in the connection's group commit. */
    async adjust(bucketName: string, delta: number, start: number): Promise<void> {
      if (delta !== 0) await commits.run(() => add.run(bucketName, start, delta));
    },
  };
}
