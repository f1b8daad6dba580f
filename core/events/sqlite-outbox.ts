import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../storage/sqlite.ts";
import { detailWithEventId } from "./event-id.ts";
import type { GatewayEvent } from "./port.ts";

/**
 * The SQLite side of the local bus. `event_outbox` holds published events (id is the dedup key) until
 * retention deletes them; a new seq is the largest plus 1, and pruning keeps the newest row, so no seq
 * is ever reused (no AUTOINCREMENT: its sqlite_sequence row would be one more page in every commit);
 * `event_cursors` holds, per subscription, the last outbox seq it has handed over; `event_deliveries`
 * records each (subscription, event) not delivered at its first attempt: retrying with its persisted
 * next-attempt time (or waiting behind an earlier event of its order key: attempts 0, no time),
 * delivered, or dead (dead-lettered rows are never deleted). A retrying event may lie behind its
 * subscription's cursor: the cursor passes it once its row records it.
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

/** A subscription's event waiting for a retry (or behind one), with its delivery state. */
export type PendingRow = OutboxRow & DeliveryState;

export type Outbox = ReturnType<typeof openOutbox>;

export function openOutbox(db: DatabaseSync) {
  db.exec(SCHEMA);
  const insertEvent = db.prepare(
    "INSERT OR IGNORE INTO event_outbox (id, source, detail_type, detail, time) VALUES (?, ?, ?, ?, ?)",
  );
  const holdsId = db.prepare("SELECT 1 AS found FROM event_outbox WHERE id = ?");
  const maxSeq = db.prepare("SELECT coalesce(max(seq), 0) AS m FROM event_outbox");
  const after = db.prepare("SELECT * FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT 100");
  const bySeq = db.prepare("SELECT * FROM event_outbox WHERE seq = ?");
  const pending = db.prepare(
    `SELECT o.*, d.attempts, d.next_attempt_at FROM event_deliveries d JOIN event_outbox o USING (seq)
     WHERE d.subscription = ? AND d.status = 'retrying' ORDER BY d.seq`,
  );
  const initCursor = db.prepare("INSERT OR IGNORE INTO event_cursors (subscription, last_seq) VALUES (?, ?)");
  // ?1 is the JSON list of the subscriptions configured now.
  const dropCursors = db.prepare(
    "DELETE FROM event_cursors WHERE subscription NOT IN (SELECT value FROM json_each(?1))",
  );
  const dropRetries = db.prepare(
    "DELETE FROM event_deliveries WHERE status = 'retrying' AND subscription NOT IN (SELECT value FROM json_each(?1))",
  );
  const getCursor = db.prepare("SELECT last_seq FROM event_cursors WHERE subscription = ?");
  // Cursors only move forward: a cursor saved late (in a group commit) never undoes a later one.
  const setCursor = db.prepare(
    "UPDATE event_cursors SET last_seq = ?1 WHERE subscription = ?2 AND last_seq < ?1",
  );
  const getState = db.prepare(
    "SELECT attempts, next_attempt_at FROM event_deliveries WHERE subscription = ? AND seq = ?",
  );
  const putState = db.prepare(
    `INSERT INTO event_deliveries (subscription, seq, status, attempts, next_attempt_at, last_error)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subscription, seq) DO UPDATE SET status = excluded.status,
     attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
  );

  // The oldest rows first, a page at a time; only rows every given cursor has passed and that no given
  // subscription still retries or has dead-lettered (a dead letter keeps its event, to be read and
  // replayed), and never the newest row: a new seq is the largest one plus 1, so keeping the newest
  // row keeps every seq unique (a cursor past a reused seq would skip its event). ?4 is the JSON list
  // of the subscriptions configured now: one removed from the config holds nothing back.
  const pruneEvents = db.prepare(
    `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox WHERE seq <= ?1
       AND seq < (SELECT max(seq) FROM event_outbox)
       AND seq NOT IN (SELECT seq FROM event_deliveries WHERE status IN ('retrying', 'dead')
         AND subscription IN (SELECT value FROM json_each(?4)))
       ORDER BY seq LIMIT ?2) AND time < ?3`,
  );
  // Dead letters of one subscription back to a first retry, due at once.
  const redrive = db.prepare(
    `UPDATE event_deliveries SET status = 'retrying', attempts = 0, next_attempt_at = 0
     WHERE status = 'dead' AND subscription = ?1`,
  );
  const deadCounts = db.prepare(
    "SELECT subscription, count(*) AS n FROM event_deliveries WHERE status = 'dead' GROUP BY subscription",
  );
  const pruneDelivered = db.prepare(
    "DELETE FROM event_deliveries WHERE status = 'delivered' AND seq <= ? AND subscription = ?",
  );

  const end = () => Number(maxSeq.get()?.m ?? 0);
  return {
    end,
    /** Whether the outbox holds an event of this id, which a publish of the id would then leave as it is. */
    holds: (id: string): boolean => holdsId.get(id) !== undefined,
    /** Writes events within the caller's transaction; an id already in the outbox is ignored. */
    insert(events: GatewayEvent[]): void {
      for (const e of events) {
        insertEvent.run(e.id, e.source, e.detailType, JSON.stringify(detailWithEventId(e)), e.time);
      }
    },
    /**
     * A new subscription starts at the current end of the outbox, as a new EventBridge rule only sees
     * events published after it exists; an existing one resumes where it stopped (redelivery on restart).
     * A subscription no longer configured is forgotten, its place and its retries (its dead letters stay,
     * to be read and redriven): configured again later, it is a new one, as a rule deleted and made again
     * is, and does not replay what was published while it was gone.
     */
    initCursors(names: Iterable<string>): void {
      const configured = [...names];
      transaction(db, () => {
        dropCursors.run(JSON.stringify(configured));
        dropRetries.run(JSON.stringify(configured));
        const at = end();
        for (const name of configured) initCursor.run(name, at);
      });
    },
    cursor: (name: string) => Number(getCursor.get(name)?.last_seq ?? 0),
    skip: (name: string, seq: number) => void setCursor.run(seq, name),
    after: (seq: number) => after.all(seq) as unknown as OutboxRow[],
    event: (seq: number) => bySeq.get(seq) as OutboxRow | undefined,
    /** The events `name` retries or holds back, in publication order. */
    pending: (name: string) => pending.all(name) as unknown as PendingRow[],
    state: (name: string, seq: number) => getState.get(name, seq) as DeliveryState | undefined,
    retryAt(name: string, seq: number, attempts: number, at: number, error: string): void {
      putState.run(name, seq, "retrying", attempts, at, error);
    },
    /** Holds an event back behind an earlier one of its order key, which is being retried. */
    wait(name: string, seq: number): void {
      putState.run(name, seq, "retrying", 0, null, null);
    },
    /**
     * A delivered event needs no row of its own: the cursor passing it says so. Only an event that had
     * a row (it failed, or waited) keeps it, updated to `delivered`.
     */
    delivered(name: string, seq: number, attempts: number, hadRow: boolean): void {
      if (hadRow) putState.run(name, seq, "delivered", attempts, null, null);
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
        return Number(pruneEvents.run(upTo, limit, before, JSON.stringify(names)).changes);
      });
    },
    dead(name: string, seq: number, attempts: number, error: string): void {
      putState.run(name, seq, "dead", attempts, null, error);
    },
    /**
     * Turns a subscription's dead letters back into retries due at once, with a fresh attempt count;
     * returns how many. A bus picks them up when it starts.
     */
    redrive(subscription: string): number {
      return Number(redrive.run(subscription).changes);
    },
    /** How many dead letters each subscription has. */
    deadLetters: () =>
      new Map(
        (deadCounts.all() as Array<{ subscription: string; n: number }>).map((r) => [
          r.subscription,
          Number(r.n),
        ]),
      ),
  };
}
