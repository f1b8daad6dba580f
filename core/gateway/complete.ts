import { finishAccounting } from "./accounting.ts";
import { auditRecordsFor } from "./audit.ts";
import type { RequestContext } from "./types.ts";

/**
 * Called exactly once per request, when its outcome is final (for streams: after the last byte). The
 * accounting runs as pending work that the host awaits before the invocation ends (middy's requestEnd
 * hook), so the caller is not kept waiting for it and Lambda cannot freeze it half-done. With
 * `reportAfter`, the outcome is reported (the request log line and metrics) only once the response has
 * been written, after `judge` has had its say on how it went: the money (settlement, usage event) and
 * the audit record do not wait for a slow reader.
 */
export function completeRequest(
  ctx: RequestContext,
  reportAfter?: { event: object; judge: () => void },
): void {
  const accounted = finishAccounting(ctx).catch((err: unknown) => {
    ctx.deps.log.error("accounting failed", {
      requestId: ctx.requestId,
      error: err instanceof Error ? err.message : "unknown",
    });
  });
  const report = () => ctx.deps.onOutcome?.(ctx.outcome);
  ctx.pending.push(reportAfter ? accounted : accounted.then(report), enqueueAudit(ctx));
  if (reportAfter)
    finishAfterResponse(reportAfter.event, () => {
      reportAfter.judge();
      ctx.pending.push(accounted.then(report));
    });
}

/** Audit records are enqueued durably; one the queue refuses after its retries is logged, redacted. */
async function enqueueAudit(ctx: RequestContext): Promise<void> {
  if (!ctx.deps.audit) return;
  const records = auditRecordsFor(ctx);
  if (records.length === 0) return;
  try {
    await ctx.deps.audit.enqueue(records);
  } catch (err) {
    ctx.deps.log.error("audit records not enqueued", {
      requestId: ctx.requestId,
      error: err instanceof Error ? err.message : "unknown",
      records: JSON.stringify(records),
    });
  }
}

/** Pending work per invocation event, for the host's end-of-invocation hook. */
export const pendingWork = new WeakMap<object, Array<Promise<void>>>();

/** What waits for a request's response to have gone, per invocation event (finishAfterResponse). */
const finishers = new WeakMap<object, () => void>();

/**
 * Defers `finish` to the host's end-of-invocation hook, which runs once the response has been written,
 * or has failed to be (middy's `requestEnd` runs after the body's write either way).
 */
function finishAfterResponse(event: object, finish: () => void): void {
  finishers.set(event, finish);
}

/** The host's end-of-invocation hook: completes what waited for the response, then awaits the work. */
export async function awaitPending(event: object): Promise<void> {
  const finish = finishers.get(event);
  if (finish) {
    finishers.delete(event);
    finish();
  }
  const work = pendingWork.get(event);
  if (work) await Promise.all(work);
}
