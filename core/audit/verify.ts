import { entryHash, isHash } from "./chain.ts";
import { p256PublicKey } from "./signing.ts";
import { type ChainEntry, type Checkpoint, GENESIS_HASH } from "./types.ts";
import { checkCheckpoints } from "./verify-checkpoints.ts";

/**
 * Offline verification of one exported chain: pure, no store, no network. Entries are walked in the order
 * given (the export's order, which must be seq order) and checked against these rules; the result names
 * the first (lowest) seq that breaks one.
 *
 * Entries, at position i (expected seq = fromSeq + i, expected prevHash = the previous entry's hash, or
 * GENESIS_HASH for seq 1; a page's first entry, above seq 1, links to what it says):
 *  1. seq above the expected one → `reordered` at the expected seq if an entry with that seq comes later
 *     in the file, else `removed` at the expected seq (the first missing one).
 *  2. seq below the expected one (a seq already seen) → `inserted` at that seq.
 *  3. entry.chain or record.chain not the chain's → `inserted` (an entry of another chain).
 *  4. hash ≠ SHA-256(prevHash ‖ canonical(record)) → `altered` at its seq (the record, prevHash or hash
 *     was edited).
 *  5. prevHash ≠ the expected one (the entry is self-consistent but was computed after a different
 *     predecessor):
 *     - it is the hash of an earlier entry at seq j → `inserted` at j + 1 (the entries between were
 *       inserted, seqs renumbered);
 *     - it is the hash of a later entry → `reordered` at this seq (renumbered reordering);
 *     - otherwise → `bad_link` at this seq: the entry before it was replaced (altered and re-hashed) or
 *       entries before it were removed and the rest renumbered.
 *  The walk stops at the first broken entry; checkpoints are only judged below that seq.
 *
 * Checkpoints (each, in seq order):
 *  6. chain not the chain's → `inserted`; empty signature → `missing_signature`; a signature that does not
 *     verify with the public key over checkpointPayload(c) → `bad_signature` (the checkpoint's seq,
 *     headHash or time was edited, or another key signed it).
 *  7. seq beyond the last entry → `removed` at the first missing seq (the chain was truncated).
 *  8. headHash ≠ the hash of the entry at its seq → `altered` at the checkpoint's seq: the chain was
 *     rewritten (altered, inserted or removed entries, every later hash recomputed) somewhere after the
 *     previous good checkpoint — the detail names that range.
 *  9. more than `maxUnsigned` consecutive entries without a checkpoint (between two checkpoints, or in the
 *     tail) → `missing_signature` at (previous checkpoint seq + maxUnsigned), where a checkpoint was due:
 *     one was deleted. Entries and no checkpoint at all → `missing_signature` at 1: the writer signs a
 *     chain's first entry as it appends it. The writer checkpoints at least every `everyEntries` entries (chain.ts), so
 *     maxUnsigned must be the writer's everyEntries (or more).
 *
 * A page (fromSeq above 1, or `next`: more follow) proves less. The entries up to its last checkpoint
 * are signed by it, whatever came before the page; rule 9 counts from fromSeq - 1 (the checkpoint before
 * the page is not in it); a page's first entry needs no checkpoint of its own; and a partial page's
 * newest key is judged by the pages after it. Verifying the pages merged (`audit:export`) is verifying
 * the chain.
 *
 * What cannot be detected offline: truncation of the unsigned tail (reported as `unsignedTail`), and
 * truncation together with deletion of the later checkpoints (the result is a valid prefix): compare the
 * last checkpoint seq with the writer's (or KMS CloudTrail Sign events).
 */

export type TamperProblem =
  | "altered"
  | "removed"
  | "inserted"
  | "reordered"
  | "bad_signature"
  | "missing_signature"
  | "bad_link";

export interface VerifyInput {
  entries: ChainEntry[];
  checkpoints: Checkpoint[];
  /**
   * The key that signed the checkpoints, or the keys, for a chain signed across a rotation (a key file
   * replaced): each checkpoint must verify with one of them.
   */
  publicKeyPem: string | readonly string[];
  /** The chain being verified; defaults to the first entry's (or checkpoint's). */
  chain?: string;
  /** Longest run of entries allowed without a checkpoint. Default 100 (the writer's everyEntries). */
  maxUnsigned?: number;
  /**
   * The seq of the first entry given (default 1): a page of a longer chain (the admin export's
   * `fromSeq`). Its first entry's prevHash is taken as given; a checkpoint at or after it signs it.
   */
  fromSeq?: number;
  /**
   * Where the chain goes on, for a page that is not its last (the export's `next`): the page holds seqs
   * fromSeq through next - 1, and its tail is signed, if at all, in a later page.
   */
  next?: number;
}

export type VerifyResult =
  | {
      ok: true;
      chain: string;
      entries: number;
      checkpoints: number;
      /** The highest seq covered by a verified checkpoint (0: none). */
      lastSignedSeq: number;
      /** Entries after lastSignedSeq: hash-linked but not yet signed (a truncation there is invisible). */
      unsignedTail: number;
      /** The first entry's seq: above 1 for a page of a longer chain. */
      fromSeq: number;
      /** The seq the chain goes on at, for a page that is not its last. */
      next?: number;
    }
  | { ok: false; chain: string; seq: number; problem: TamperProblem; detail: string };

type Failure = Extract<VerifyResult, { ok: false }>;
/** A problem found, at the seq it shows at (verify-checkpoints.ts reports checkpoints' too). */
export type Problem = Omit<Failure, "ok" | "chain">;

export const DEFAULT_MAX_UNSIGNED = 100;

/** Throws only for an unusable public key (not EC P-256): that is a usage error, not tampering. */
export function verifyChain(input: VerifyInput): VerifyResult {
  const { entries } = input;
  const maxUnsigned = input.maxUnsigned ?? DEFAULT_MAX_UNSIGNED;
  const keys = (typeof input.publicKeyPem === "string" ? [input.publicKeyPem] : input.publicKeyPem).map(
    p256PublicKey,
  );
  const chain = input.chain ?? entries[0]?.chain ?? input.checkpoints[0]?.chain ?? "";
  const fromSeq = input.fromSeq ?? 1;
  const { next } = input;
  const partial = next !== undefined;

  const entryProblem = walkEntries(entries, chain, fromSeq) ?? pageEnd(entries, fromSeq, next);
  // Entries [0, validCount) are in place: entries[i].seq === fromSeq + i and correctly linked.
  const validCount = entryProblem ? entryProblem.seq - fromSeq : entries.length;
  const checkpointProblem = checkCheckpoints(
    input.checkpoints,
    entries,
    validCount,
    chain,
    keys,
    maxUnsigned,
    { walkBroken: entryProblem !== undefined, fromSeq, partial },
  );

  const problems = [entryProblem, checkpointProblem.problem].filter((p): p is Problem => p !== undefined);
  if (problems.length > 0) {
    // The lowest seq; on a tie, the entry problem (it is the more specific).
    const first = problems.reduce((a, b) => (b.seq < a.seq ? b : a));
    return { ok: false, chain, ...first };
  }
  return {
    ok: true,
    chain,
    entries: entries.length,
    checkpoints: checkpointProblem.verified,
    lastSignedSeq: checkpointProblem.lastSignedSeq,
    unsignedTail: entries.length - Math.max(0, checkpointProblem.lastSignedSeq - fromSeq + 1),
    fromSeq,
    ...(partial ? { next } : {}),
  };
}

/** A page that is not the chain's last holds every seq before its `next`, and none after. */
function pageEnd(entries: ChainEntry[], fromSeq: number, next: number | undefined): Problem | undefined {
  if (next === undefined) return undefined;
  const end = fromSeq + entries.length;
  if (end < next)
    return {
      seq: end,
      problem: "removed",
      detail:
        end === next - 1
          ? `seq ${end} is missing (the page goes on at seq ${next})`
          : `seqs ${end}–${next - 1} are missing (the page goes on at seq ${next})`,
    };
  if (end > next)
    return {
      seq: next,
      problem: "inserted",
      detail: `the page says the chain goes on at seq ${next}, but holds entries through seq ${end - 1}`,
    };
  return undefined;
}

function walkEntries(entries: ChainEntry[], chain: string, fromSeq: number): Problem | undefined {
  const positionOfHash = new Map<string, number>();
  entries.forEach((e, i) => {
    if (!positionOfHash.has(e.hash)) positionOfHash.set(e.hash, i);
  });
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const expected = fromSeq + i;
    // A page's first entry links to one the page does not hold: the checkpoints after it sign that link.
    const expectedPrev = i > 0 ? entries[i - 1]!.hash : fromSeq === 1 ? GENESIS_HASH : e.prevHash;
    if (e.seq > expected) {
      const later = entries.findIndex((x, j) => j > i && x.seq === expected);
      return later >= 0
        ? {
            seq: expected,
            problem: "reordered",
            detail: `seq ${expected} appears after seq ${e.seq} (position ${later + 1} instead of ${i + 1})`,
          }
        : {
            seq: expected,
            problem: "removed",
            detail:
              e.seq === expected + 1
                ? `seq ${expected} is missing (seq ${e.seq} follows seq ${expected - 1})`
                : `seqs ${expected}–${e.seq - 1} are missing (seq ${e.seq} follows seq ${expected - 1})`,
          };
    }
    if (e.seq < expected) {
      return {
        seq: e.seq,
        problem: "inserted",
        detail: `a second entry claims seq ${e.seq} (at position ${i + 1})`,
      };
    }
    if (e.chain !== chain || e.record.chain !== chain) {
      return {
        seq: e.seq,
        problem: "inserted",
        detail: `seq ${e.seq} belongs to chain ${e.chain === chain ? e.record.chain : e.chain}, not ${chain}`,
      };
    }
    let recomputed: string;
    try {
      recomputed = entryHash(e.prevHash, e.record);
    } catch (err) {
      return {
        seq: e.seq,
        problem: "altered",
        detail: `seq ${e.seq} cannot be hashed: ${(err as Error).message}`,
      };
    }
    if (!isHash(e.hash) || recomputed !== e.hash) {
      return {
        seq: e.seq,
        problem: "altered",
        detail: `seq ${e.seq}: SHA-256(prevHash ‖ canonical(record)) is ${recomputed}, the entry says ${e.hash}`,
      };
    }
    if (e.prevHash !== expectedPrev) {
      const at = positionOfHash.get(e.prevHash);
      if (at !== undefined && at < i - 1) {
        return {
          seq: fromSeq + at + 1,
          problem: "inserted",
          detail: `seq ${e.seq} links to seq ${fromSeq + at}: the ${i - 1 - at} entr${i - 1 - at === 1 ? "y" : "ies"} from seq ${fromSeq + at + 1} were inserted`,
        };
      }
      if (at !== undefined && at > i) {
        return {
          seq: e.seq,
          problem: "reordered",
          detail: `seq ${e.seq} links to the entry now at seq ${entries[at]!.seq}, which comes after it`,
        };
      }
      return {
        seq: e.seq,
        problem: "bad_link",
        detail:
          i === 0
            ? `seq 1 does not start from the genesis hash: earlier entries were removed`
            : `seq ${e.seq} does not link to seq ${e.seq - 1}'s hash: seq ${e.seq - 1} was replaced (altered and re-hashed) or entries before seq ${e.seq} were removed`,
      };
    }
  }
  return undefined;
}
