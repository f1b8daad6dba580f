import { checkpointPayload, nextEntry } from "../../../core/audit/chain.ts";
import type { Signer } from "../../../core/audit/port.ts";
import type { AuditRecord, ChainEntry, Checkpoint } from "../../../core/audit/types.ts";

export const CHAIN = "org-acme";

export function record(i: number, chain = CHAIN): AuditRecord {
  return {
    eventId: `evt-${chain}-${i}`,
    chain,
    kind: i % 3 === 0 ? "key.change" : "request",
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    actor: i % 5 === 0 ? null : `key_${i % 7}`,
    data: { action: "update", n: i, amount: i / 4, nested: { z: [i, "é"], a: true } },
  };
}

export async function signCheckpoint(signer: Signer, entry: ChainEntry, time: string): Promise<Checkpoint> {
  const body = { chain: entry.chain, seq: entry.seq, headHash: entry.hash, time };
  const signature = Buffer.from(await signer.sign(checkpointPayload(body))).toString("base64");
  return { ...body, signature, keyId: signer.keyId };
}

/** n entries, a checkpoint after every `every` entries (so n % every are an unsigned tail). */
export async function buildChain(
  signer: Signer,
  n: number,
  every = 100,
): Promise<{ entries: ChainEntry[]; checkpoints: Checkpoint[] }> {
  const entries: ChainEntry[] = [];
  const checkpoints: Checkpoint[] = [];
  for (let i = 1; i <= n; i++) {
    const entry = nextEntry(entries.at(-1), record(i));
    entries.push(entry);
    if (i % every === 0) checkpoints.push(await signCheckpoint(signer, entry, record(i).time));
  }
  return { entries, checkpoints };
}

/** Re-links and re-hashes entries from position `from` on (renumbering seqs), as a forger without the key would. */
export function rehashFrom(entries: ChainEntry[], from: number): ChainEntry[] {
  const out = entries.slice(0, from);
  for (const e of entries.slice(from)) out.push(nextEntry(out.at(-1), e.record));
  return out;
}

export const clone = <T>(v: T): T => structuredClone(v);
