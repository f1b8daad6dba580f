import { checkpointPayload } from "./chain.ts";
import { type p256PublicKey, publicKeyFingerprint, verifySignature } from "./signing.ts";
import type { ChainEntry, Checkpoint } from "./types.ts";
import type { Problem } from "./verify.ts";

/**
 * The checkpoint rules of verify.ts (6 to 9, and a chain no checkpoint signs), over the entries the
 * entry walk left in place (`validCount`): which checkpoints verify, and the first problem, if any.
 */
export function checkCheckpoints(
  checkpoints: Checkpoint[],
  entries: ChainEntry[],
  validCount: number,
  chain: string,
  keys: ReadonlyArray<ReturnType<typeof p256PublicKey>>,
  maxUnsigned: number,
  { walkBroken, fromSeq, partial }: { walkBroken: boolean; fromSeq: number; partial: boolean },
): { problem?: Problem; verified: number; lastSignedSeq: number } {
  // A page holds no entry a checkpoint below it signs: such a checkpoint is not the page's to judge.
  const sorted = checkpoints.filter((c) => !(c.seq < fromSeq)).sort((a, b) => a.seq - b.seq);
  const lastSeq = fromSeq - 1 + entries.length;
  const fingerprints = keys.map((k) => `local:${publicKeyFingerprint(k)}`).join(", ");
  // The last seq a checkpoint signed, as far as this file shows: before a page, the one before it.
  let lastGood = fromSeq - 1;
  /** The key (of `keys`, in rotation order) that signed the last checkpoint that verified. */
  let keyAt = 0;
  let verified = 0;
  const signedSeq = () => (verified > 0 ? lastGood : 0);
  const gap = (from: number, to: number): Problem | undefined =>
    to - from > maxUnsigned
      ? {
          seq: from + maxUnsigned,
          problem: "missing_signature",
          detail: `no checkpoint covers seqs ${from + 1}–${to} (at most ${maxUnsigned} may be unsigned): a checkpoint was removed`,
        }
      : undefined;

  for (const c of sorted) {
    // Past a broken entry the positions mean nothing: the entry problem is reported instead.
    if (walkBroken && c.seq > fromSeq - 1 + validCount) break;
    if (c.chain !== chain) {
      return {
        problem: { seq: c.seq, problem: "inserted", detail: `checkpoint ${c.seq} is of chain ${c.chain}` },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    if (!Number.isInteger(c.seq) || c.seq < 1) {
      return {
        problem: { seq: 1, problem: "altered", detail: `checkpoint with invalid seq ${c.seq}` },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    if (!c.signature) {
      return {
        problem: { seq: c.seq, problem: "missing_signature", detail: `checkpoint ${c.seq} has no signature` },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    const payload = checkpointPayload(c);
    const signature = Buffer.from(c.signature, "base64");
    // Keys are given in the order they signed (a rotation replaces the old with the new): a checkpoint
    // may not go back to a key the chain had moved past, or one who kept a retired key could re-sign
    // the chain after it.
    const signer = keys.findIndex((key, i) => i >= keyAt && verifySignature(key, payload, signature));
    if (signer < 0) {
      const back = keyAt > 0 && keys.slice(0, keyAt).some((k) => verifySignature(k, payload, signature));
      return {
        problem: {
          seq: c.seq,
          problem: "bad_signature",
          detail: back
            ? `checkpoint ${c.seq} is signed by a key the chain's earlier checkpoints had rotated away from: re-signed with a retired key`
            : `checkpoint ${c.seq}'s signature does not verify with the given public key${keys.length > 1 ? "s" : ""} (${fingerprints}; the checkpoint names ${c.keyId}): its seq, headHash or time was edited, or another key signed it`,
        },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    keyAt = signer;
    const gapProblem = gap(lastGood, Math.min(c.seq, lastSeq));
    if (gapProblem) return { problem: gapProblem, verified, lastSignedSeq: signedSeq() };
    if (c.seq > lastSeq) {
      return {
        problem: {
          seq: lastSeq + 1,
          problem: "removed",
          detail: `checkpoint ${c.seq} signs entries up to seq ${c.seq}, the export ends at seq ${lastSeq}: the chain was truncated`,
        },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    const entry = entries[c.seq - fromSeq]!;
    if (entry.hash !== c.headHash) {
      return {
        problem: {
          seq: c.seq,
          problem: "altered",
          detail: `checkpoint ${c.seq} signed head hash ${c.headHash}, seq ${c.seq} now has ${entry.hash}: entries in seqs ${lastGood + 1}–${c.seq} were altered, inserted or removed and the chain re-hashed`,
        },
        verified,
        lastSignedSeq: signedSeq(),
      };
    }
    verified++;
    lastGood = c.seq;
  }
  if (!walkBroken) {
    // The writer signs every chain's first entry as it appends it (chain.ts shouldCheckpoint): a chain
    // no checkpoint signs had them all removed, and anyone could have rewritten it.
    if (verified === 0 && entries.length > 0 && fromSeq === 1)
      return {
        problem: {
          seq: 1,
          problem: "missing_signature",
          detail:
            "no checkpoint signs this chain (the writer signs every chain's first entry): its checkpoints were removed",
        },
        verified,
        lastSignedSeq: signedSeq(),
      };
    // A partial page's tail goes on in the next page, but holds no more than the writer leaves
    // unsigned either: it never appends past maxUnsigned unsigned entries, and a page holds every
    // checkpoint of its seqs.
    const tail = gap(lastGood, lastSeq);
    if (tail) return { problem: tail, verified, lastSignedSeq: signedSeq() };
    // The newest checkpoint signs everything before it: it must be the current (last given) key's, or a
    // retired key could have re-signed the whole chain. A partial page's newest need not be the newest.
    if (verified > 0 && !partial && keyAt !== keys.length - 1)
      return {
        problem: {
          seq: lastGood,
          problem: "bad_signature",
          detail: `the last checkpoint (seq ${lastGood}) is not signed by the last public key given: give only the keys that signed this chain, oldest first (one idle since a rotation, or rotated less than a checkpoint ago, was signed by the older key alone); if the last key given did sign it, the chain was re-signed with a retired key`,
        },
        verified,
        lastSignedSeq: signedSeq(),
      };
  }
  return { verified, lastSignedSeq: signedSeq() };
}
