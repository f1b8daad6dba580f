import type { AuditRecord, ChainEntry, Checkpoint } from "./types.ts";

/**
 * The transport from producers (router, admin) to the writer: FIFO per chain (SQS FIFO MessageGroupId =
 * chain), deduplicated by eventId. `enqueue` resolves once the queue accepted every record; it retries
 * transient failures and rejects only when it gives up (the caller logs the records: never silently).
 */
export interface AuditQueue {
  enqueue(records: AuditRecord[]): Promise<void>;
}

/**
 * Chain storage. `append` is a conditional put on (chain, seq): it fails with ConflictError when that seq
 * already exists, so a redelivery or a second writer can never fork or reorder a chain.
 */
export interface AuditStore {
  head(chain: string): Promise<ChainEntry | undefined>;
  /** Returns the entry of a record already in the chain (redelivery), by eventId. */
  findByEventId(chain: string, eventId: string): Promise<ChainEntry | undefined>;
  append(entry: ChainEntry): Promise<void>;
  /**
   * Stores a checkpoint of the chain's head: ConflictError when one is stored at that seq, or when the
   * head has moved past it (a checkpoint signed for an older head and stored late would land behind
   * pages of an export already read, and leave them a gap of more than 100 unsigned entries).
   */
  putCheckpoint(checkpoint: Checkpoint): Promise<void>;
  lastCheckpoint(chain: string): Promise<Checkpoint | undefined>;
  /** Entries with seq in [from, to], in order. */
  entries(chain: string, from: number, to: number): Promise<ChainEntry[]>;
  /** Checkpoints with seq in [from, to] (default: all), in order. */
  checkpoints(chain: string, from?: number, to?: number): Promise<Checkpoint[]>;
  chains(): Promise<string[]>;
}

/** Signs checkpoint bytes: KMS (ECC_NIST_P256, ECDSA_SHA_256, MessageType RAW) or a local key file. */
export interface Signer {
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** SubjectPublicKeyInfo PEM, for offline verification. */
  publicKeyPem(): Promise<string>;
}
