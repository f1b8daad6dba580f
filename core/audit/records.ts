import { redactValue } from "../pii/redact-value.ts";
import { boundedData } from "./record-size.ts";
import type { AuditKind, AuditRecord } from "./types.ts";

/** The chain of changes and authentication failures; every org has its own chain besides. */
export const SYSTEM_CHAIN = "system";

/**
 * Builds an audit record. Everything in `data` is redacted here, once, whoever produced it: the audit
 * trail must never hold a secret or personal data, whatever a caller put in a prompt or a field. Then
 * it is bounded (record-size.ts), so that every queue and store takes it.
 */
export function auditRecord(
  eventId: string,
  chain: string,
  kind: AuditKind,
  time: number,
  actor: string | null,
  data: Record<string, unknown>,
): AuditRecord {
  return {
    eventId,
    chain,
    kind,
    time: new Date(time).toISOString(),
    actor,
    data: boundedData(redactValue(data) as Record<string, unknown>),
  };
}
