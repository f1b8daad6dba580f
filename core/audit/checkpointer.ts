import { type Log, silentLog } from "../log.ts";
import { ConflictError } from "../storage/errors.ts";
import { checkpointPayload, DEFAULT_CHECKPOINT_EVERY_ENTRIES, entryHash, shouldCheckpoint } from "./chain.ts";
import type { AuditStore, Signer } from "./port.ts";
import { type ChainEntry, type Checkpoint, GENESIS_HASH } from "./types.ts";

/** A chain the checkpointer will not sign: what the store holds does not extend what was signed. */
export class UnsignableChainError extends Error {
  constructor(chain: string, why: string) {
    super(`audit chain ${chain} not signed: ${why}`);
    this.name = "UnsignableChainError";
  }
}

/**
 * Why the entries a checkpoint at `head` would sign are not the signed chain extended, or undefined when
 * they are: each must link to the one before (the first to the last checkpoint's head hash, or to the
 * genesis hash) and hash its own record, and there may be no more of them than the verifier accepts
 * unsigned. A checkpoint signs what the store holds, so without this, anyone who can write the store
 * (but not sign) could rewrite entries after the last checkpoint, or remove checkpoints and rewrite
 * more, and have the result signed.
 */
async function whyUnsignable(
  store: AuditStore,
  last: Checkpoint | undefined,
  head: ChainEntry,
  limit: number,
): Promise<string | undefined> {
  const from = (last?.seq ?? 0) + 1;
  if (head.seq - from + 1 > limit)
    return `${head.seq - from + 1} entries since the last checkpoint, more than the ${limit} the verifier accepts unsigned (a checkpoint removed?)`;
  let prev = last?.headHash ?? GENESIS_HASH;
  let seq = from;
  for (const entry of await store.entries(head.chain, from, head.seq)) {
    if (entry.seq !== seq || entry.prevHash !== prev || entry.hash !== entryHash(prev, entry.record))
      return `entry ${entry.seq} does not extend the signed chain`;
    prev = entry.hash;
    seq++;
  }
  return seq === head.seq + 1 && prev === head.hash ? undefined : `entries up to ${head.seq} are missing`;
}

export interface CheckpointDeps {
  store: AuditStore;
  signer: Signer;
  now: () => number;
  /** Sign once this many entries are unsigned (default 100, chain.ts). */
  checkpointEvery?: number;
  /** Sign once the last checkpoint is this old and entries were appended since (default 60 s). */
  checkpointMs?: number;
  log?: Log;
}

/**
 * Signs a checkpoint of `head` when chain.ts says one is due (every N entries or T seconds, never per
 * entry: KMS request quotas), and stores it, once the entries it covers are checked to extend what was
 * signed (whyUnsignable: otherwise it throws UnsignableChainError, and nothing is signed). A checkpoint
 * already stored at that seq (a racing writer, a redelivery) is fine. A signing failure is only logged
 * while fewer than N entries are unsigned; past that, and for a chain's first checkpoint, it throws, so
 * the writer stops appending (the verifier reads more than N unsigned entries, or entries with no
 * checkpoint at all, as removed checkpoints) and the record is redelivered until signing works again.
 */
export async function maybeCheckpoint(deps: CheckpointDeps, head: ChainEntry): Promise<boolean> {
  const policy = { everyEntries: deps.checkpointEvery, everyMs: deps.checkpointMs };
  const limit = deps.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY_ENTRIES;
  const last = await deps.store.lastCheckpoint(head.chain);
  const now = deps.now();
  if (!shouldCheckpoint(last, head, now, policy)) return false;
  const why = await whyUnsignable(deps.store, last, head, limit);
  if (why) throw new UnsignableChainError(head.chain, why);
  const body = { chain: head.chain, seq: head.seq, headHash: head.hash, time: new Date(now).toISOString() };
  try {
    const signature = await deps.signer.sign(checkpointPayload(body));
    await deps.store.putCheckpoint({
      ...body,
      signature: Buffer.from(signature).toString("base64"),
      keyId: deps.signer.keyId,
    });
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    const unsigned = head.seq - (last?.seq ?? 0);
    if (unsigned >= limit || !last) throw err;
    (deps.log ?? silentLog).warn("audit checkpoint failed; will retry with a later entry", {
      chain: head.chain,
      seq: head.seq,
      unsigned,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
}

/**
 * The time rule for quiet chains: signs every chain whose newest entries are older than checkpointMs
 * and unsigned. Run on a timer (a schedule in AWS, an interval in portable mode).
 */
export async function checkpointQuietChains(deps: CheckpointDeps): Promise<number> {
  let signed = 0;
  for (const chain of await deps.store.chains()) {
    const head = await deps.store.head(chain);
    try {
      if (head && (await maybeCheckpoint(deps, head))) signed++;
    } catch (err) {
      // One chain that cannot be signed (its store tampered with, its signer down) holds up no other.
      (deps.log ?? silentLog).error("audit checkpoint not signed", {
        chain,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return signed;
}

/**
 * The chains whose newest entries no checkpoint covers, with how many: read at start, where a graceful
 * stop (which signs every tail) leaves none. A tail found then comes from a crash, or from writes made
 * outside the gateway; the next checkpoint will sign it as it stands, so it is worth a look first.
 */
export async function unsignedTails(store: AuditStore): Promise<Array<{ chain: string; entries: number }>> {
  const out: Array<{ chain: string; entries: number }> = [];
  for (const chain of await store.chains()) {
    const head = await store.head(chain);
    const signed = (await store.lastCheckpoint(chain))?.seq ?? 0;
    if (head && head.seq > signed) out.push({ chain, entries: head.seq - signed });
  }
  return out;
}

/**
 * Chains whose last checkpoint another key signed than `keyId`: the signing key was replaced (or lost,
 * and a new one made), so the earlier checkpoints verify only with the old key's public part.
 */
export async function signedByOtherKeys(
  store: AuditStore,
  keyId: string,
): Promise<Array<{ chain: string; keyId: string }>> {
  const out: Array<{ chain: string; keyId: string }> = [];
  for (const chain of await store.chains()) {
    const last = await store.lastCheckpoint(chain);
    if (last && last.keyId !== keyId) out.push({ chain, keyId: last.keyId });
  }
  return out;
}
