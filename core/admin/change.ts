import type { AdminAction, AdminKind, AdminRequest } from "./types.ts";

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
