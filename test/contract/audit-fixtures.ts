import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { entryHash } from "../../core/audit/chain.ts";
import { fifoId, type SqsFifoRecord } from "../../core/audit/fifo-message.ts";
import { createLocalSigner } from "../../core/audit/local-signer.ts";
import type { AuditStore, Signer } from "../../core/audit/port.ts";
import { type AuditRecord, type ChainEntry, GENESIS_HASH } from "../../core/audit/types.ts";

/** Audit records, messages and chain checks shared by the audit contract suites and writer tests. */

export function auditRec(chain: string, n: number, data: Record<string, unknown> = {}): AuditRecord {
  return {
    eventId: `${chain}-e${n}`,
    chain,
    kind: "registry.change",
    time: new Date(Date.UTC(2026, 10, 26, 10, 0, n)).toISOString(),
    actor: "k1",
    data: { action: "update", target: `model-${n}`, n, ...data },
  };
}

export const auditRecs = (chain: string, count: number, from = 1): AuditRecord[] =>
  Array.from({ length: count }, (_, i) => auditRec(chain, from + i));

let messages = 0;
/** An SQS FIFO record for `record`, as the queue would deliver it. */
export function auditMessage(record: AuditRecord, messageId = `m-${++messages}`): SqsFifoRecord {
  return {
    messageId,
    body: JSON.stringify(record),
    attributes: { MessageGroupId: fifoId(record.chain), MessageDeduplicationId: fifoId(record.eventId) },
  };
}

/** Asserts seq 1..n with no gap, each prevHash the previous hash, each hash recomputed from its record. */
export function expectLinear(entries: ChainEntry[]): void {
  let prev = GENESIS_HASH;
  for (const [i, e] of entries.entries()) {
    expect(e.seq, `seq at position ${i}`).toBe(i + 1);
    expect(e.prevHash, `prevHash of seq ${e.seq}`).toBe(prev);
    expect(e.hash, `hash of seq ${e.seq}`).toBe(entryHash(e.prevHash, e.record));
    prev = e.hash;
  }
}

/** The whole chain, checked linear; returns its event ids in chain order. */
export async function chainEventIds(store: AuditStore, chain: string): Promise<string[]> {
  const head = await store.head(chain);
  const entries = await store.entries(chain, 1, head?.seq ?? 0);
  expectLinear(entries);
  expect(entries.at(-1)).toEqual(head);
  return entries.map((e) => e.record.eventId);
}

/** A real local signer (P-256 key file in a temp directory). */
export async function testSigner(): Promise<Signer> {
  return createLocalSigner(join(mkdtempSync(join(tmpdir(), "audit-key-")), "signing.pem"));
}
