import type { AuditQueue } from "../audit/port.ts";
import type { AuditRecord } from "../audit/types.ts";
import type { InterruptedRequest } from "../budgets/interrupted.ts";
import type { Log } from "../log.ts";
import { interruptedRequestRecord } from "./audit.ts";

/**
 * A sensitive org's requests that a dead gateway never finished go to the org's chain, as every request
 * of such an org does: with what is known of them (their open reservations), status 500 `interrupted`.
 * Called before their charges are written (portable mode's start, the AWS sweep), so a run that dies in
 * between enqueues them again: the queue, and the writer, keep an id once. Not enqueued, they are
 * logged whole, as a request's own records are.
 */
export async function auditInterrupted(
  requests: InterruptedRequest[],
  isSensitive: (org: string) => Promise<boolean>,
  queue: AuditQueue,
  log: Log,
): Promise<void> {
  const sensitive = new Map<string, boolean>();
  const records: AuditRecord[] = [];
  for (const request of requests) {
    if (!sensitive.has(request.org)) sensitive.set(request.org, await isSensitive(request.org));
    if (sensitive.get(request.org)) records.push(interruptedRequestRecord(request));
  }
  if (records.length === 0) return;
  await queue.enqueue(records).catch((err: unknown) =>
    log.error("audit records not enqueued", {
      error: err instanceof Error ? err.message : "unknown",
      records: JSON.stringify(records),
    }),
  );
}
