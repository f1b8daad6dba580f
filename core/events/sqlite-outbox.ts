import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../storage/sqlite.ts";
import { detailWithEventId } from "./event-id.ts";
import type { GatewayEvent } from "./port.ts";

/**
 * The SQLite side of the local bus. `event_outbox` holds published events (id is the dedup key) until
 * retention deletes them; a new seq is the largest plus 1, and pruning keeps the newest row, so no seq
 * is ever reused (no AUTOINCREMENT: its sqlite_sequence row would be one more page in every commit);
 * `event_cursors` holds, per subscription, the last outbox seq it is done with; `event_deliveries`
 * records each attempted (subscription, event): retrying with its persisted next-attempt time,
 * delivered, or dead (dead-lettered rows are never deleted).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  detail_type TEXT NOT NULL,
  detail TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_cursors (subscription TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS event_deliveries (
  subscription TEXT NOT NULL,
  seq INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('retrying', 'delivered', 'dead')),
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER,
  last_error TEXT,
  PRIMARY KEY (subscription, seq)
);
`;

export interface OutboxRow {
  seq: number;
  id: string;
  source: string;
  detail_type: string;
  detail: string;
  time: string;
}

export interface DeliveryState {
  attempts: number;
  next_attempt_at: number | null;
}

export type Outbox = ReturnType<typeof openOutbox>;

export function openOutbox(db: DatabaseSync) {
  db.exec(SCHEMA);
  const insertEvent = db.prepare(
    "INSERT OR IGNORE INTO event_outbox (id, source, detail_type, detail, time) VALUES (?, ?, ?, ?, ?)",
  );
  const maxSeq = db.prepare("SELECT coalesce(max(seq), 0) AS m FROM event_outbox");
  const after = db.prepare("SELECT * FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT 100");
  const initCursor = db.prepare("INSERT OR IGNORE INTO event_cursors (subscription, last_seq) VALUES (?, ?)");
  const getCursor = db.prepare("SELECT last_seq FROM event_cursors WHERE subscription = ?");
  // Cursors only move forward: a cursor saved late (in a group commit) never undoes a later one.
  const setCursor = db.prepare(
    "UPDATE event_cursors SET last_seq = ?1 WHERE subscription = ?2 AND last_seq < ?1",
  );
  const getState = db.prepare(
    "SELECT attempts, next_attempt_at FROM event_deliveries WHERE subscription = ? AND seq = ?",
  );
  const anyState = db.prepare(
    "SELECT 1 AS found FROM event_deliveries WHERE subscription = ? AND seq BETWEEN ? AND ? LIMIT 1",
  );
  const putState = db.prepare(
    `INSERT INTO event_deliveries (subscription, seq, status, attempts, next_attempt_at, last_error)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subscription, seq) DO UPDATE SET status = excluded.status,
     attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
  );

  // The oldest rows first, a page at a time; only rows every given cursor has passed, and never the
  // newest row: a new seq is the largest one plus 1, so keeping the newest row keeps every seq unique
  // (a cursor past a reused seq would skip its event).
  const pruneEvents = db.prepare(
    `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox WHERE seq <= ?1
       AND seq < (SELECT max(seq) FROM event_outbox) ORDER BY seq LIMIT ?2) AND time < ?3`,
  );
  const pruneDelivered = db.prepare(
    "DELETE FROM event_deliveries WHERE status = 'delivered' AND seq <= ? AND subscription = ?",
  );

  const end = () => Number(maxSeq.get()?.m ?? 0);
  return {
    end,
    /** Writes events within the caller's transaction; an id already in the outbox is ignored. */
    insert(events: GatewayEvent[]): void {
      for (const e of events) {
        insertEvent.run(e.id, e.source, e.detailType, JSON.stringify(detailWithEventId(e)), e.time);
      }
    },
    /**
     * A new subscription starts at the current end of the outbox, as a new EventBridge rule only sees
     * events published after it exists; an existing one resumes where it stopped (redelivery on restart).
     */
    initCursors(names: Iterable<string>): void {
      transaction(db, () => {
        const at = end();
        for (const name of names) initCursor.run(name, at);
      });
    },
    cursor: (name: string) => Number(getCursor.get(name)?.last_seq ?? 0),
    skip: (name: string, seq: number) => void setCursor.run(seq, name),
    after: (seq: number) => after.all(seq) as unknown as OutboxRow[],
    state: (name: string, seq: number) => getState.get(name, seq) as DeliveryState | undefined,
    /** True when some event in seq range [from, to] has a delivery row (it failed once) for `name`. */
    anyState: (name: string, from: number, to: number) => anyState.get(name, from, to) !== undefined,
    retryAt(name: string, seq: number, attempts: number, at: number, error: string): void {
      putState.run(name, seq, "retrying", attempts, at, error);
    },
    /** Records the final outcome and moves the cursor past the event, atomically. */
    /**
     * A delivered event needs no row of its own: the cursor passing it says so. Only an event that
     * failed first keeps its delivery row (attempts, last error), updated to `delivered`.
     */
    delivered(name: string, seq: number, attempts: number): void {
      if (attempts > 1) putState.run(name, seq, "delivered", attempts, null, null);
    },
    /**
     * Deletes up to `limit` of the oldest events that every subscription in `names` is done with and
     * that were published before `before` (ISO time), with their `delivered` rows; dead-lettered rows
     * stay. Returns how many events it deleted: call again while it returns `limit`.
     */
    prune(names: readonly string[], before: string, limit: number): number {
      return transaction(db, () => {
        const upTo = Math.min(...names.map((n) => Number(getCursor.get(n)?.last_seq ?? 0)));
        if (!Number.isFinite(upTo)) return 0;
        for (const n of names) pruneDelivered.run(upTo, n);
        return Number(pruneEvents.run(upTo, limit, before).changes);
      });
    },
    dead(name: string, seq: number, attempts: number, error: string): void {
      transaction(db, () => {
        putState.run(name, seq, "dead", attempts, null, error);
        setCursor.run(seq, name);
      });
    },
  };
}
