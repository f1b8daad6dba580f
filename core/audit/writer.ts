import { z } from "zod";
import { type Log, silentLog } from "../log.ts";
import { ConflictError } from "../storage/errors.ts";
import { DEFAULT_CHECKPOINT_EVERY_ENTRIES, nextEntry } from "./chain.ts";
import { type CheckpointDeps, maybeCheckpoint } from "./checkpointer.ts";
import { type BatchResponse, fifoId, type SqsFifoRecord, sleep } from "./fifo-message.ts";
import type { AuditRecord, ChainEntry } from "./types.ts";

/**
 * The audit writer's logic (DESIGN §7), shared by the Lambda on the SQS FIFO queue and the portable
 * SQLite queue's consumer. Per record: already in its chain (a redelivery) → nothing to write;
 * otherwise read the head, compute the next entry (chain.ts) and append it with the store's conditional
 * put. A ConflictError means another writer took that seq first: re-read and try again, a bounded number
 * of times. Then, maybe, a signed checkpoint. The chain stays linear whatever is redelivered or raced.
 */
export interface WriterDeps extends CheckpointDeps {
  /** Appends tried per record when other writers keep winning the seq (default 8). */
  maxAppendAttempts?: number;
}

export type WriteOutcome = { entry: ChainEntry; written: boolean };

/** A message that can never be written: not an audit record, or sent in another chain's group. */
export class PoisonMessageError extends Error {
  constructor(messageId: string, reason: string) {
    super(`Audit message ${messageId} cannot be written: ${reason}`);
    this.name = "PoisonMessageError";
  }
}

const auditRecordSchema = z.looseObject({
  eventId: z.string().min(1),
  chain: z.string().min(1),
  kind: z.enum([
    "registry.change",
    "key.change",
    "auth.failure",
    "budget.refusal",
    "residency.refusal",
    "request",
  ]),
  time: z.string().min(1),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

/**
 * The record in a message body. The parsed JSON itself is kept (zod only checks it): everything in it is
 * hashed, so nothing may be stripped or rewritten on the way.
 */
export function parseAuditMessage(message: SqsFifoRecord): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(message.body);
  } catch {
    throw new PoisonMessageError(message.messageId, "the body is not JSON");
  }
  const parsed = auditRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PoisonMessageError(
      message.messageId,
      `${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
    );
  }
  const record = value as AuditRecord;
  // Ordering holds per message group: a record sent in another chain's group was ordered against the
  // wrong records, so it is refused rather than written out of order.
  if (fifoId(record.chain) !== message.attributes.MessageGroupId)
    throw new PoisonMessageError(
      message.messageId,
      `chain ${record.chain} sent in group ${message.attributes.MessageGroupId}`,
    );
  return record;
}

/**
 * Places one record in its chain exactly once. `head`, when the caller has just read it, serves the first
 * round; a conflict reads it again.
 */
export async function appendOnce(
  record: AuditRecord,
  deps: WriterDeps,
  head?: ChainEntry,
): Promise<WriteOutcome> {
  const { store } = deps;
  const maxAttempts = deps.maxAppendAttempts ?? 8;
  for (let attempt = 0; ; attempt++) {
    // Checked on every round: after a conflict, the winner may have been another writer with this record.
    const existing = await store.findByEventId(record.chain, record.eventId);
    if (existing) return { entry: existing, written: false };
    const at = attempt === 0 && head ? head : await store.head(record.chain);
    // A retry's head is new (another writer appended): it may be the one that fills the allowance.
    if (attempt > 0 && at) await signIfFull(deps, at);
    const entry = nextEntry(at, record);
    try {
      await store.append(entry);
      return { entry, written: true };
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt + 1 >= maxAttempts) throw err;
      await sleep(Math.random() * 10 * 2 ** attempt);
    }
  }
}

/**
 * Signs `head` first when the chain has no checkpoint yet, or as many entries since the last one as may
 * go unsigned: maybeCheckpoint throws when such a chain cannot be signed, before anything is appended.
 */
async function signIfFull(deps: WriterDeps, head: ChainEntry): Promise<void> {
  const limit = deps.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY_ENTRIES;
  const last = await deps.store.lastCheckpoint(head.chain);
  if (last && head.seq - last.seq < limit) return;
  await maybeCheckpoint(deps, head);
  // A checkpoint refused as a conflict (the head moved past it: another writer appended) signs
  // nothing: the next entry would be one more than the verifier accepts unsigned. The record waits
  // for its redelivery, by which time the head's writer has signed it.
  const now = await deps.store.lastCheckpoint(head.chain);
  if (!now || head.seq - now.seq >= limit)
    throw new ConflictError(`Chain ${head.chain}: seq ${head.seq} is not signed yet; the record is retried.`);
}

/** The per-record step of a batch: parse, append once, maybe checkpoint. Throws to fail the record. */
export async function writeAuditMessage(message: SqsFifoRecord, deps: WriterDeps): Promise<WriteOutcome> {
  const record = parseAuditMessage(message);
  // A chain with as many unsigned entries as the verifier accepts takes no more until they are signed:
  // while signing fails, the record fails before it is appended (and a record the queue gave up on,
  // dead-lettered, leaves the next one no way around that either).
  const before = await deps.store.head(record.chain);
  if (before) await signIfFull(deps, before);
  const outcome = await appendOnce(record, deps, before);
  // Also after a redelivery: the checkpoint may be what failed the first time. The head may be past our
  // entry (another writer); a checkpoint of the current head is just as valid.
  const head = outcome.written ? outcome.entry : ((await deps.store.head(record.chain)) ?? outcome.entry);
  await maybeCheckpoint(deps, head);
  return outcome;
}

/**
 * Processes an SQS FIFO batch in order and stops at the first failure: that record and every later one
 * are reported in batchItemFailures (FIFO: nothing may overtake a failed record), nothing is skipped.
 */
export async function processAuditBatch(records: SqsFifoRecord[], deps: WriterDeps): Promise<BatchResponse> {
  const log: Log = deps.log ?? silentLog;
  for (const [i, message] of records.entries()) {
    try {
      const { entry, written } = await writeAuditMessage(message, deps);
      if (!written)
        log.info("audit record already written (redelivery)", { chain: entry.chain, seq: entry.seq });
    } catch (err) {
      log.error("audit record not written; it and the rest of the batch go back to the queue", {
        messageId: message.messageId,
        poison: err instanceof PoisonMessageError,
        failed: records.length - i,
        error: err instanceof Error ? err.message : String(err),
      });
      return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.messageId })) };
    }
  }
  return { batchItemFailures: [] };
}
