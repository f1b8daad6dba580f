/**
 * What the audit chain records. Every record is redacted before it is enqueued (core/pii) and never
 * holds a secret: API keys appear only as key ids, provider credentials never.
 */
export type AuditKind =
  | "registry.change"
  | "key.change"
  | "auth.failure"
  | "budget.refusal"
  | "residency.refusal"
  | "request";

export interface AuditRecord {
  /** Unique per record; the FIFO deduplication id. */
  eventId: string;
  /** The chain it belongs to: an org id, or `system` for changes and auth failures. */
  chain: string;
  kind: AuditKind;
  /** ISO-8601 time the event happened (not when it was written). */
  time: string;
  /** Who: a key id, or null for unauthenticated events. */
  actor: string | null;
  /** JSON-compatible, redacted details (action, target, before/after, request and response, …). */
  data: Record<string, unknown>;
}

/** A record once the writer has placed it in its chain. */
export interface ChainEntry {
  chain: string;
  /** 1, 2, 3, … with no gaps. */
  seq: number;
  /** hex SHA-256 of the previous entry (64 zeros for seq 1). */
  prevHash: string;
  /** hex SHA-256(prevHash ‖ canonical(record)) — see chain.ts. */
  hash: string;
  record: AuditRecord;
}

/** A signed statement "chain X had head hash H at seq N", produced every N entries or T seconds. */
export interface Checkpoint {
  chain: string;
  seq: number;
  headHash: string;
  time: string;
  /** ECDSA P-256 over SHA-256 of canonical({chain, seq, headHash, time}), DER, base64. */
  signature: string;
  /** Identifies the public key (KMS key ARN or the local key's fingerprint). */
  keyId: string;
}

export const GENESIS_HASH = "0".repeat(64);
