import type { DatabaseSync } from "node:sqlite";
import { ConflictError } from "../storage/errors.ts";
import { transaction } from "../storage/sqlite.ts";
import type { AuditStore } from "./port.ts";
import { type AuditRecord, type ChainEntry, type Checkpoint, GENESIS_HASH } from "./types.ts";

/**
 * Audit chains in SQLite. (chain, seq) is the primary key and (chain, event_id) is unique, and append
 * checks in the same transaction that the entry extends the current head (seq = head + 1, prevHash =
 * head hash): a redelivery, a second writer or a buggy caller can never fork, reorder or gap a chain.
 * The record is kept as the JSON text that was hashed, so it reads back exactly.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_entries (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (chain, seq),
  UNIQUE (chain, event_id)
);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
`;

interface EntryRow {
  chain: string;
  seq: number;
  prev_hash: string;
  hash: string;
  record: string;
}

interface CheckpointRow {
  chain: string;
  seq: number;
  head_hash: string;
  time: string;
  signature: string;
  key_id: string;
}

const toEntry = (r: EntryRow): ChainEntry => ({
  chain: r.chain,
  seq: Number(r.seq),
  prevHash: r.prev_hash,
  hash: r.hash,
  record: JSON.parse(r.record) as AuditRecord,
});

const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  chain: r.chain,
  seq: Number(r.seq),
  headHash: r.head_hash,
  time: r.time,
  signature: r.signature,
  keyId: r.key_id,
});

const isConstraint = (err: unknown) =>
  err instanceof Error && /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(err.message);

export function createSqliteAuditStore(db: DatabaseSync): AuditStore {
  db.exec(SCHEMA);
  const head = db.prepare("SELECT * FROM audit_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1");
  const byEvent = db.prepare("SELECT * FROM audit_entries WHERE chain = ? AND event_id = ?");
  const insert = db.prepare(
    "INSERT INTO audit_entries (chain, seq, event_id, prev_hash, hash, record) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const range = db.prepare(
    "SELECT * FROM audit_entries WHERE chain = ? AND seq BETWEEN ? AND ? ORDER BY seq",
  );
  const chains = db.prepare("SELECT DISTINCT chain FROM audit_entries ORDER BY chain");
  const putCheckpoint = db.prepare(
    "INSERT INTO audit_checkpoints (chain, seq, head_hash, time, signature, key_id) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const lastCheckpoint = db.prepare(
    "SELECT * FROM audit_checkpoints WHERE chain = ? ORDER BY seq DESC LIMIT 1",
  );
  const checkpoints = db.prepare(
    "SELECT * FROM audit_checkpoints WHERE chain = ? AND seq BETWEEN ? AND ? ORDER BY seq",
  );

  const headOf = (chain: string) => {
    const row = head.get(chain) as EntryRow | undefined;
    return row ? toEntry(row) : undefined;
  };

  return {
    async head(chain) {
      return headOf(chain);
    },
    async findByEventId(chain, eventId) {
      const row = byEvent.get(chain, eventId) as EntryRow | undefined;
      return row ? toEntry(row) : undefined;
    },
    async append(e) {
      if (e.record.chain !== e.chain)
        throw new Error(`Entry of chain ${e.chain} holds a record of ${e.record.chain}`);
      try {
        transaction(db, () => {
          const cur = headOf(e.chain);
          const [seq, hash] = cur ? [cur.seq, cur.hash] : [0, GENESIS_HASH];
          if (e.seq !== seq + 1 || e.prevHash !== hash)
            throw new ConflictError(`Chain ${e.chain} is at seq ${seq}; entry ${e.seq} does not extend it.`);
          insert.run(e.chain, e.seq, e.record.eventId, e.prevHash, e.hash, JSON.stringify(e.record));
        });
      } catch (err) {
        if (isConstraint(err))
          throw new ConflictError(
            `Chain ${e.chain} already holds seq ${e.seq} or event ${e.record.eventId}.`,
          );
        throw err;
      }
    },
    async putCheckpoint(c) {
      try {
        // One transaction: the head is still the entry the checkpoint signs when it is stored.
        transaction(db, () => {
          const now = head.get(c.chain) as EntryRow | undefined;
          if (now?.seq !== c.seq || now.hash !== c.headHash)
            throw new ConflictError(
              `Chain ${c.chain}: the checkpoint signs seq ${c.seq}, the head is now ${now?.seq ?? "none"}.`,
            );
          putCheckpoint.run(c.chain, c.seq, c.headHash, c.time, c.signature, c.keyId);
        });
      } catch (err) {
        if (isConstraint(err))
          throw new ConflictError(`Chain ${c.chain} already has a checkpoint at ${c.seq}.`);
        throw err;
      }
    },
    async lastCheckpoint(chain) {
      const row = lastCheckpoint.get(chain) as CheckpointRow | undefined;
      return row ? toCheckpoint(row) : undefined;
    },
    async entries(chain, from, to) {
      return (range.all(chain, from, to) as unknown as EntryRow[]).map(toEntry);
    },
    async checkpoints(chain, from = 1, to = Number.MAX_SAFE_INTEGER) {
      return (checkpoints.all(chain, from, to) as unknown as CheckpointRow[]).map(toCheckpoint);
    },
    async chains() {
      return (chains.all() as unknown as { chain: string }[]).map((r) => r.chain);
    },
  };
}
