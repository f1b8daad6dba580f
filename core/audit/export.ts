import { z } from "zod";
import type { ChainEntry, Checkpoint } from "./types.ts";

/**
 * The file `audit:verify` reads and the admin export returns: one chain, its entries in seq order and its
 * checkpoints. `publicKeyPem` is a convenience only — a key shipped inside the file proves nothing
 * (whoever forged the file could replace it); verify with a key obtained independently (KMS GetPublicKey,
 * the deployment's published key, the local key file).
 */
export const AUDIT_EXPORT_FORMAT = "llm-gateway-audit-export/1";

export interface AuditExport {
  format: typeof AUDIT_EXPORT_FORMAT;
  chain: string;
  keyId: string;
  publicKeyPem?: string;
  /** The first entry's seq, when the file is a page of a longer chain (absent: 1). */
  fromSeq?: number;
  /** Where the chain goes on, when this page is not its last: ask for `?fromSeq=<next>`. */
  next?: number;
  entries: ChainEntry[];
  checkpoints: Checkpoint[];
}

const hash = z.string().regex(/^[0-9a-f]{64}$/, "a 64-character lowercase hex SHA-256");
const seq = z.number().int().min(1);

/**
 * Shape checks for an untrusted file. The record stays open (looseObject) and `parseAuditExport` returns
 * the input itself, not zod's copy: stripping or rewriting any part of a record would change what is
 * hashed and could hide an edit.
 */
const record = z.looseObject({
  eventId: z.string(),
  chain: z.string(),
  kind: z.string(),
  time: z.string(),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

export const chainEntrySchema = z.object({
  chain: z.string(),
  seq,
  prevHash: hash,
  hash,
  record,
});

export const checkpointSchema = z.object({
  chain: z.string(),
  seq,
  headHash: hash,
  time: z.string(),
  // May be empty or missing: the verifier reports that as missing_signature rather than the parser
  // rejecting the file as unreadable.
  signature: z.string().default(""),
  keyId: z.string(),
});

export const auditExportSchema = z.object({
  format: z.literal(AUDIT_EXPORT_FORMAT),
  chain: z.string().min(1),
  keyId: z.string(),
  publicKeyPem: z.string().optional(),
  fromSeq: seq.optional(),
  next: seq.optional(),
  entries: z.array(chainEntrySchema),
  checkpoints: z.array(checkpointSchema),
});

export class AuditExportError extends Error {
  override readonly name = "AuditExportError";
}

/** Validates parsed JSON as an export; throws AuditExportError naming the first few bad paths. */
export function parseAuditExport(json: unknown): AuditExport {
  const result = auditExportSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new AuditExportError(`not an ${AUDIT_EXPORT_FORMAT} file: ${issues.join("; ")}`);
  }
  return json as AuditExport;
}

export function buildAuditExport(parts: Omit<AuditExport, "format">): AuditExport {
  const { chain, keyId, publicKeyPem, fromSeq, next, entries, checkpoints } = parts;
  return {
    format: AUDIT_EXPORT_FORMAT,
    chain,
    keyId,
    ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
    ...(fromSeq === undefined || fromSeq === 1 ? {} : { fromSeq }),
    ...(next === undefined ? {} : { next }),
    entries,
    checkpoints,
  };
}

/**
 * Consecutive pages of one chain's export (each page's `next` the following page's `fromSeq`) as one
 * export, for `audit:verify` to judge as a whole. The key fields are the last page's.
 */
export function mergeExportPages(pages: readonly AuditExport[]): AuditExport {
  const first = pages[0];
  if (!first) throw new AuditExportError("no pages to merge");
  pages.forEach((p, i) => {
    if (p.chain !== first.chain)
      throw new AuditExportError(`page ${i + 1} is of chain ${p.chain}, not ${first.chain}`);
    const before = pages[i - 1];
    if (before && before.next !== (p.fromSeq ?? 1))
      throw new AuditExportError(
        `page ${i + 1} starts at seq ${p.fromSeq ?? 1}, but page ${i} goes on at ${before.next ?? "(none: it was the last)"}`,
      );
  });
  const last = pages[pages.length - 1]!;
  return buildAuditExport({
    chain: first.chain,
    keyId: last.keyId,
    publicKeyPem: last.publicKeyPem,
    fromSeq: first.fromSeq,
    next: last.next,
    entries: pages.flatMap((p) => p.entries),
    checkpoints: pages.flatMap((p) => p.checkpoints),
  });
}
