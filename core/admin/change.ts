import type { Within } from "../registry/port.ts";
import type { AdminAction, AdminChange, AdminKind, AdminRequest } from "./types.ts";

/** One write of an admin request, as its records say it: who, what, which, before and after. */
export function adminChange(
  req: AdminRequest,
  action: AdminAction,
  kind: AdminKind,
  id: string,
  before: unknown,
  after: unknown,
): AdminChange {
  return { requestId: req.requestId, actorKeyId: req.actor.id, action, kind, id, before, after };
}

/**
 * The `within` of a store write that records its change in the same commit, where the host can
 * (AdminDeps.recordWithin); undefined where it cannot. The same change goes to recordChange after the
 * write, so the two records are one (the audit queue keeps an event id once).
 */
export function recordedWithin(req: AdminRequest, change: AdminChange): Within | undefined {
  const record = req.deps.recordWithin;
  return record ? () => record(change) : undefined;
}

/**
 * Reports one successful write: a structured log line (who, what, which; never bodies or secrets) and
 * the `onChange` hook with before/after. Runs after the store accepted the write.
 */
export async function recordChange(req: AdminRequest, change: AdminChange): Promise<void> {
  const { deps } = req;
  const { requestId, actorKeyId, action, kind, id } = change;
  deps.log.info("admin change", { requestId, actorKeyId, action, kind, id });
  try {
    await deps.onChange?.(change);
  } catch (err) {
    deps.log.error("admin change hook failed", {
      requestId,
      kind,
      id,
      error: err instanceof Error ? err.name : "unknown",
    });
  }
}
