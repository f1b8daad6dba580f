import { finishAccounting } from "./accounting.ts";
import { auditRecordsFor } from "./audit.ts";
import type { RequestContext } from "./types.ts";

/**
 * Called exactly once per request, when its outcome is final (for streams: after the last byte). The
 * accounting runs as pending work that the host awaits before the invocation ends (middy's requestEnd
 * hook), so the caller is not kept waiting for it and Lambda cannot freeze it half-done.
 */
export function completeRequest(ctx: RequestContext): void {
  ctx.pending.push(
    finishAccounting(ctx)
      .catch((err: unknown) => {
        ctx.deps.log.error("accounting failed", {
          requestId: ctx.requestId,
          error: err instanceof Error ? err.message : "unknown",
        });
      })
      .then(() => ctx.deps.onOutcome?.(ctx.outcome)),
    enqueueAudit(ctx),
  );
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

/** What completes a request once its response has gone, per invocation event (finishAfterResponse). */
const finishers = new WeakMap<object, () => void>();

/**
 * Defers a request's completion to the host's end-of-invocation hook, which runs once the response has
 * been written, or has failed to be (middy's `requestEnd` runs either way).
 */
export function finishAfterResponse(event: object, finish: () => void): void {
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
