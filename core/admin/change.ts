import type { Within } from "../registry/port.ts";
import type { AdminAction, AdminKind, AdminRequest } from "./types.ts";

/**
 * The `within` of a store write that records its change in the same commit, where the host can
 * (AdminDeps.recordWithin); undefined where it cannot.
 */
export function recordedWithin(
  req: AdminRequest,
  action: AdminAction,
  kind: AdminKind,
  id: string,
  before: unknown,
  after: unknown,
): Within | undefined {
  const record = req.deps.recordWithin;
  if (!record) return undefined;
  const { requestId, actor } = req;
  return () => record({ requestId, actorKeyId: actor.id, action, kind, id, before, after });
}

/**
 * Reports one successful write: a structured log line (who, what, which; never bodies or secrets) and
 * the `onChange` hook with before/after. Runs after the store accepted the write.
 */
export async function recordChange(
  req: AdminRequest,
  action: AdminAction,
  kind: AdminKind,
  id: string,
  before: unknown,
  after: unknown,
): Promise<void> {
  const { deps, requestId, actor } = req;
  deps.log.info("admin change", { requestId, actorKeyId: actor.id, action, kind, id });
  try {
    await deps.onChange?.({ requestId, actorKeyId: actor.id, action, kind, id, before, after });
  } catch (err) {
    deps.log.error("admin change hook failed", {
      requestId,
      kind,
      id,
      error: err instanceof Error ? err.name : "unknown",
    });
  }
}
