import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../storage/sqlite.ts";

/**
 * The tables of the portable audit queue. `audit_queue` holds messages not yet acknowledged, in send
 * order (seq is the FIFO SequenceNumber); `audit_queue_dedup` every deduplication id ever accepted (SQS
 * forgets them after 5 minutes; remembering them forever is stricter and costs one short row each);
 * `audit_queue_groups` the backoff of a group whose head message failed; `audit_queue_dead` messages
 * parked after maxReceiveCount failed deliveries (the SQS dead-letter queue), never deleted.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL UNIQUE,
  group_id TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  body TEXT NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS audit_queue_by_group ON audit_queue (group_id, seq);
CREATE TABLE IF NOT EXISTS audit_queue_dedup (dedup_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS audit_queue_groups (
  group_id TEXT PRIMARY KEY,
  retry_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_queue_dead (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  body TEXT NOT NULL,
  failures INTEGER NOT NULL,
  dead_at INTEGER NOT NULL,
  last_error TEXT
);
`;

export interface QueueRow {
  seq: number;
  message_id: string;
  group_id: string;
  dedup_id: string;
  body: string;
  receive_count: number;
  failures: number;
}

export interface NewMessage {
  messageId: string;
  groupId: string;
  dedupId: string;
  body: string;
}

export type QueueTables = ReturnType<typeof openQueueTables>;

export function openQueueTables(db: DatabaseSync) {
  db.exec(SCHEMA);
  const seen = db.prepare("INSERT OR IGNORE INTO audit_queue_dedup (dedup_id) VALUES (?)");
  const insert = db.prepare(
    "INSERT INTO audit_queue (message_id, group_id, dedup_id, body) VALUES (?, ?, ?, ?)",
  );
  const ready = db.prepare(
    `SELECT q.group_id AS group_id, min(q.seq) AS first FROM audit_queue q
     LEFT JOIN audit_queue_groups g ON g.group_id = q.group_id
     WHERE g.retry_at IS NULL OR g.retry_at <= ? GROUP BY q.group_id ORDER BY first`,
  );
  const nextRetry = db.prepare(
    `SELECT min(retry_at) AS t FROM audit_queue_groups
     WHERE retry_at > ? AND group_id IN (SELECT group_id FROM audit_queue)`,
  );
  const head = db.prepare("SELECT * FROM audit_queue WHERE group_id = ? ORDER BY seq LIMIT ?");
  const received = db.prepare(
    "UPDATE audit_queue SET receive_count = receive_count + 1 WHERE group_id = ? AND seq <= ?",
  );
  const ack = db.prepare("DELETE FROM audit_queue WHERE group_id = ? AND seq <= ?");
  const failed = db.prepare("UPDATE audit_queue SET failures = failures + 1 WHERE seq = ?");
  const groupState = db.prepare("SELECT attempts FROM audit_queue_groups WHERE group_id = ?");
  const backoff = db.prepare(
    `INSERT INTO audit_queue_groups (group_id, retry_at, attempts) VALUES (?, ?, ?)
     ON CONFLICT (group_id) DO UPDATE SET retry_at = excluded.retry_at, attempts = excluded.attempts`,
  );
  const clear = db.prepare("DELETE FROM audit_queue_groups WHERE group_id = ?");
  const bury = db.prepare(
    `INSERT INTO audit_queue_dead (seq, message_id, group_id, dedup_id, body, failures, dead_at, last_error)
     SELECT seq, message_id, group_id, dedup_id, body, failures, ?, ? FROM audit_queue WHERE seq = ?`,
  );
  const remove = db.prepare("DELETE FROM audit_queue WHERE seq = ?");
  const count = db.prepare("SELECT count(*) AS n FROM audit_queue");
  const dead = db.prepare("SELECT * FROM audit_queue_dead ORDER BY seq");

  return {
    /** Adds messages not seen before (by dedup id), in order, atomically; returns how many were new. */
    append(messages: NewMessage[]): number {
      return transaction(db, () => {
        let added = 0;
        for (const m of messages) {
          if (Number(seen.run(m.dedupId).changes) === 0) continue;
          insert.run(m.messageId, m.groupId, m.dedupId, m.body);
          added++;
        }
        return added;
      });
    },
    /** Groups with messages and no pending backoff, oldest first. */
    readyGroups: (now: number) =>
      (ready.all(now) as unknown as { group_id: string }[]).map((r) => r.group_id),
    nextRetryAt: (now: number) => (nextRetry.get(now) as { t: number | null } | undefined)?.t ?? null,
    /** The first `limit` messages of a group, counted as received. */
    receive(group: string, limit: number): QueueRow[] {
      const rows = head.all(group, limit) as unknown as QueueRow[];
      const last = rows.at(-1);
      if (last) received.run(group, last.seq);
      return rows.map((r) => ({ ...r, receive_count: r.receive_count + 1 }));
    },
    /** Deletes the group's messages up to `lastSeq` and clears its backoff. */
    ack(group: string, lastSeq: number): void {
      transaction(db, () => {
        ack.run(group, lastSeq);
        clear.run(group);
      });
    },
    /** Counts a failure of the group's head message and sets the group's retry time; returns its failures. */
    fail(group: string, row: QueueRow, delayFor: (attempts: number) => number, now: number): number {
      return transaction(db, () => {
        failed.run(row.seq);
        const attempts = ((groupState.get(group) as { attempts: number } | undefined)?.attempts ?? 0) + 1;
        backoff.run(group, now + delayFor(attempts), attempts);
        return row.failures + 1;
      });
    },
    /** Moves a message to the dead-letter table; its group goes on with the next message. */
    bury(group: string, seq: number, now: number, error: string | null): void {
      transaction(db, () => {
        bury.run(now, error, seq);
        remove.run(seq);
        clear.run(group);
      });
    },
    size: () => Number((count.get() as { n: number }).n),
    dead: () => dead.all() as unknown as (Omit<QueueRow, "receive_count"> & { last_error: string | null })[],
  };
}
