import { GatewayError } from "../api/errors.ts";
import { type AuditExport, buildAuditExport } from "../audit/export.ts";
import type { AuditStore, Signer } from "../audit/port.ts";
import type { ChainEntry } from "../audit/types.ts";
import { answerBytes, PAGE_BYTES } from "./page.ts";

/** Entries read from the store at a time: a page stops within one read of PAGE_BYTES. */
const READ_ENTRIES = 50;

export interface AuditPageQuery {
  fromSeq: number;
  limit: number;
}

/**
 * One page of a chain's export: the entries from `fromSeq`, at most `limit` of them and no more than
 * PAGE_BYTES as a Lambda answer carries them (a record may take ~200 KB: MAX_DATA_BYTES), and the
 * checkpoints that sign them. A page before the head says where the chain goes on (`next`); the last
 * also carries the first checkpoint past its entries, if any, so a chain cut short reads as `removed`.
 */
export async function exportPage(
  store: AuditStore,
  chain: string,
  signer: Pick<Signer, "keyId" | "publicKeyPem">,
  { fromSeq, limit }: AuditPageQuery,
): Promise<AuditExport> {
  const head = await store.head(chain);
  if (!head) {
    throw new GatewayError(404, "invalid_request_error", `No audit chain '${chain}'.`, {
      code: "not_found",
      param: "chain",
    });
  }
  if (fromSeq > head.seq) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      `fromSeq ${fromSeq} is past the end of chain '${chain}' (seq ${head.seq}).`,
      { code: "invalid_value", param: "fromSeq" },
    );
  }
  const { entries, to } = await readFitting(store, chain, fromSeq, Math.min(head.seq, fromSeq + limit - 1));
  let next = to < head.seq ? to + 1 : undefined;
  let checkpoints = await store.checkpoints(chain, fromSeq, next === undefined ? undefined : to);
  const beyond = checkpoints.filter((c) => c.seq > to);
  if (beyond.length > 0) {
    // A checkpoint is stored after the entry it signs: one past this page's entries, read after them,
    // is an entry appended meanwhile (the head, read again, has it) or a chain cut short (it does not).
    // The first such one is evidence enough; a chain cut far back could have more than a page holds.
    const now = await store.head(chain);
    const last = beyond.reduce((a, c) => (c.seq > a.seq ? c : a));
    const first = beyond.reduce((a, c) => (c.seq < a.seq ? c : a));
    checkpoints = checkpoints.filter((c) => c.seq <= to);
    if (now && now.seq >= last.seq) next = to + 1;
    else checkpoints.push(first);
  }
  return buildAuditExport({
    chain,
    keyId: signer.keyId,
    publicKeyPem: await signer.publicKeyPem(),
    fromSeq,
    next,
    entries,
    checkpoints,
  });
}

/**
 * The stored entries of seqs `from` through `to`, in seq order, until they pass PAGE_BYTES (at least
 * one), and the last seq they cover: where the bytes ran out, else `to`. Missing seqs are left missing,
 * for the verifier to name (`removed`).
 */
async function readFitting(
  store: AuditStore,
  chain: string,
  from: number,
  to: number,
): Promise<{ entries: ChainEntry[]; to: number }> {
  const entries: ChainEntry[] = [];
  let bytes = 0;
  for (let at = from; at <= to; at += READ_ENTRIES) {
    for (const entry of await store.entries(chain, at, Math.min(to, at + READ_ENTRIES - 1))) {
      bytes += answerBytes(entry);
      if (bytes > PAGE_BYTES && entries.length > 0) return { entries, to: entries.at(-1)!.seq };
      entries.push(entry);
    }
  }
  return { entries, to };
}
