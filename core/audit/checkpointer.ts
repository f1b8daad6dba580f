import { type Log, silentLog } from "../log.ts";
import { ConflictError } from "../storage/errors.ts";
import { checkpointPayload, DEFAULT_CHECKPOINT_EVERY_ENTRIES, shouldCheckpoint } from "./chain.ts";
import type { AuditStore, Signer } from "./port.ts";
import type { ChainEntry } from "./types.ts";

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
 * entry: KMS request quotas), and stores it. A checkpoint already stored at that seq (a racing writer,
 * a redelivery) is fine. A signing failure is only logged while fewer than N entries are unsigned; past
 * that it throws, so the writer stops appending (the verifier reads more than N unsigned entries as a
 * removed checkpoint) and the record is redelivered until signing works again.
 */
export async function maybeCheckpoint(deps: CheckpointDeps, head: ChainEntry): Promise<boolean> {
  const policy = { everyEntries: deps.checkpointEvery, everyMs: deps.checkpointMs };
  const last = await deps.store.lastCheckpoint(head.chain);
  const now = deps.now();
  if (!shouldCheckpoint(last, head, now, policy)) return false;
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
    const limit = deps.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY_ENTRIES;
    if (unsigned >= limit) throw err;
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
    if (head && (await maybeCheckpoint(deps, head))) signed++;
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
