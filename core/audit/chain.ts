import { createHash } from "node:crypto";
import { canonical, canonicalBytes } from "./canonical.ts";
import { type AuditRecord, type ChainEntry, type Checkpoint, GENESIS_HASH } from "./types.ts";

/**
 * The hash chain (DESIGN §7). An entry's hash is
 *
 *     hash = lowercase hex SHA-256( prevHash ‖ canonical(record) )
 *
 * where ‖ is byte concatenation of exactly two parts: the 64 ASCII bytes of `prevHash` written as lowercase
 * hex (GENESIS_HASH, 64 × "0", for seq 1), then the UTF-8 bytes of the RFC 8785 canonical JSON of the
 * record (canonical.ts). No separator, no newline. `seq`, `chain`, `prevHash` and `hash` of the ChainEntry
 * are not part of `record`: the order is protected by the link (prevHash), not by the seq number.
 *
 * Reproduce with a shell, given the canonical record in record.json (no trailing newline):
 *
 *     { printf '%s' "$PREV_HASH"; cat record.json; } | sha256sum
 *
 * or in Node: `createHash("sha256").update(prevHash).update(canonical(record)).digest("hex")`.
 */

const HEX64 = /^[0-9a-f]{64}$/;

export const isHash = (s: unknown): s is string => typeof s === "string" && HEX64.test(s);

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function entryHash(prevHash: string, record: AuditRecord): string {
  if (!isHash(prevHash)) throw new Error("prevHash must be 64 lowercase hex characters");
  return createHash("sha256").update(prevHash, "ascii").update(canonical(record), "utf8").digest("hex");
}

/** The entry that appends `record` after `head` (undefined: the chain is empty, so seq 1 after GENESIS). */
export function nextEntry(head: ChainEntry | undefined, record: AuditRecord): ChainEntry {
  if (head && head.chain !== record.chain) {
    throw new Error(`record of chain ${record.chain} cannot follow the head of chain ${head.chain}`);
  }
  const prevHash = head?.hash ?? GENESIS_HASH;
  return {
    chain: record.chain,
    seq: (head?.seq ?? 0) + 1,
    prevHash,
    hash: entryHash(prevHash, record),
    record,
  };
}

export type CheckpointBody = Pick<Checkpoint, "chain" | "seq" | "headHash" | "time">;

/**
 * The bytes a checkpoint signature covers: the UTF-8 canonical JSON of {chain, seq, headHash, time} and
 * nothing else (not keyId, not the signature), e.g.
 * `{"chain":"org-1","headHash":"ab…","seq":100,"time":"2025-01-01T00:00:00.000Z"}`. Well under KMS's
 * 4096-byte limit for `MessageType: RAW`.
 */
export function checkpointPayload(c: CheckpointBody): Buffer {
  return canonicalBytes({ chain: c.chain, seq: c.seq, headHash: c.headHash, time: c.time });
}

export interface CheckpointPolicy {
  /** Sign once this many entries are not yet covered by a checkpoint. Default 100. */
  everyEntries?: number;
  /** Sign once the last checkpoint is this old and entries were appended since. Default 60 000. */
  everyMs?: number;
}

export const DEFAULT_CHECKPOINT_EVERY_ENTRIES = 100;
export const DEFAULT_CHECKPOINT_EVERY_MS = 60_000;

/**
 * Whether the writer should sign a checkpoint at `head` now: never when nothing was appended since the
 * last checkpoint; always for a chain that has entries and no checkpoint yet (one signature anchors a new
 * chain); otherwise when `everyEntries` entries are unsigned or the last checkpoint is `everyMs` old.
 *
 * The writer must ask after every append (not once per batch), and must not append more than
 * `everyEntries` entries past the last checkpoint while signing fails: the verifier treats a run of more
 * than `everyEntries` unsigned entries as a removed checkpoint (verify.ts, `maxUnsigned`). For the time
 * rule to cover a quiet chain, the writer also asks on a timer.
 */
export function shouldCheckpoint(
  lastCheckpoint: Checkpoint | undefined,
  head: ChainEntry | undefined,
  now: Date | number,
  policy: CheckpointPolicy = {},
): boolean {
  const everyEntries = policy.everyEntries ?? DEFAULT_CHECKPOINT_EVERY_ENTRIES;
  const everyMs = policy.everyMs ?? DEFAULT_CHECKPOINT_EVERY_MS;
  if (!head) return false;
  if (!lastCheckpoint) return true;
  const pending = head.seq - lastCheckpoint.seq;
  if (pending <= 0) return false;
  if (pending >= everyEntries) return true;
  const last = Date.parse(lastCheckpoint.time);
  // An unparseable time cannot prove the checkpoint is recent: sign.
  return !Number.isFinite(last) || (typeof now === "number" ? now : now.getTime()) - last >= everyMs;
}
