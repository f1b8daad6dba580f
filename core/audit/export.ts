import { z } from "zod";
import type { AuditStore, Signer } from "./port.ts";
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
  const { chain, keyId, publicKeyPem, entries, checkpoints } = parts;
  return {
    format: AUDIT_EXPORT_FORMAT,
    chain,
    keyId,
    ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
    entries,
    checkpoints,
  };
}

/**
 * Reads a whole chain from the store (pages of `pageSize` entries) for the admin export endpoint. The
 * signer gives keyId and the public key; both are informational in the file.
 */
export async function exportChain(
  store: AuditStore,
  chain: string,
  signer: Pick<Signer, "keyId" | "publicKeyPem">,
  pageSize = 1000,
): Promise<AuditExport> {
  // Checkpoints first: a checkpoint signs entries already stored, so every one read now is at or below
  // the head read next, unless entries were cut from the end, which the verifier must then see (a
  // checkpoint past the export's last entry is `removed`). Entries appended while we read are at most an
  // unsigned tail of this export.
  const checkpoints = await store.checkpoints(chain);
  const head = await store.head(chain);
  const entries: ChainEntry[] = [];
  for (let from = 1; head && from <= head.seq; from += pageSize) {
    entries.push(...(await store.entries(chain, from, Math.min(head.seq, from + pageSize - 1))));
  }
  return buildAuditExport({
    chain,
    keyId: signer.keyId,
    publicKeyPem: await signer.publicKeyPem(),
    entries,
    checkpoints,
  });
}
