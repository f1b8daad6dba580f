import { z } from "zod";
import { badRequest } from "../api/errors.ts";
import { stampBudgets } from "../budgets/counters.ts";
import { budgetsSchema, keySchema, rateLimitSchema } from "../config/schema.ts";
import { validate } from "../gateway/validate.ts";
import type { ApiKeyRecord } from "../keys/port.ts";
import { adminChange, recordChange, recordedWithin } from "./change.ts";
import { conflict, missing } from "./errors.ts";
import { publicKey } from "./public-key.ts";
import { checkKeyModels } from "./references.ts";
import type { AdminHandler } from "./types.ts";

/**
 * A key edit, merged into the key: a field left out keeps its value, `null` removes it. A full
 * replacement would widen a key on every edit that forgot its `models` (none: every model). `id`, `org`
 * and `role` may be sent (a GET body sent back) and must be the key's own; `createdAt` is ignored.
 */
const keyPatchSchema = z
  .object({
    id: keySchema.shape.id.optional(),
    org: keySchema.shape.org.optional(),
    role: z.enum(["api", "admin"]).optional(),
    name: keySchema.shape.name.unwrap().nullable().optional(),
    models: z.array(z.string().min(1)).min(1).nullable().optional(),
    budgets: budgetsSchema.nullable().optional(),
    rateLimits: rateLimitSchema.nullable().optional(),
    createdAt: z.string().optional(),
  })
  .strict();

type KeyPatch = z.infer<typeof keyPatchSchema>;

/**
 * A key's org and role are what it is: its spend and budgets count under its org, and a key that
 * became an admin key would hold powers its holder was never handed. Either is a new key.
 */
function unchanged(record: ApiKeyRecord, body: KeyPatch): void {
  if (body.id !== undefined && body.id !== record.id)
    throw badRequest(
      `The body's id '${body.id}' differs from the path's '${record.id}'; a key cannot be renamed.`,
      "id",
      "id_mismatch",
    );
  for (const field of ["org", "role"] as const)
    if (body[field] !== undefined && body[field] !== record[field])
      throw badRequest(
        `A key's ${field} cannot change (it is '${record[field]}'); create a new key instead.`,
        field,
        "immutable_field",
      );
}

/** `patch[field]` merged into `current`: absent keeps, null removes. */
const merged = <T>(patch: T | null | undefined, current: T | undefined): T | undefined =>
  patch === undefined ? current : (patch ?? undefined);

/** Edits that met another edit of the same key try again on what it left, this many times. */
const MAX_EDIT_ROUNDS = 5;

/** `patch` merged into `before`, as the key it asks for. */
function edited(before: ApiKeyRecord, patch: KeyPatch, now: string): ApiKeyRecord {
  return {
    ...before,
    name: merged(patch.name, before.name),
    models: merged(patch.models, before.models),
    // A budget kept for its period keeps its `since`, and so its counter: a new limit applies to the
    // spend so far.
    budgets: stampBudgets(merged(patch.budgets, before.budgets), before.budgets, now),
    rateLimits: merged(patch.rateLimits, before.rateLimits),
  };
}

/** `PATCH /admin/keys/{id}`: a key's name, models, budgets and rate limits, at once. */
export const editKey: AdminHandler = {
  body: true,
  async run(req) {
    const { deps, id } = req;
    const patch = validate(keyPatchSchema, req.body);
    await checkKeyModels(deps, patch.models ?? undefined);
    for (let round = 0; round < MAX_EDIT_ROUNDS; round++) {
      const before = await deps.keys.get(id);
      if (!before) throw missing("API key", id);
      // The file is where such a key is changed: the next start would put the file's back.
      if (before.source === "config")
        throw conflict(`API key '${id}' is declared in the config file; change it there.`, "id");
      unchanged(before, patch);
      const record = edited(before, patch, new Date(deps.now()).toISOString());
      // Only onto the key as read: one revoked or rotated meanwhile is not brought back, and another
      // edit that landed meanwhile is read again and kept (this one merges into it). The key store's
      // cache in this process forgets every key, so the next request sees the change.
      const change = adminChange(req, "replace", "key", id, publicKey(before), publicKey(record));
      if (await deps.keys.update(record, before, recordedWithin(req, change))) {
        await recordChange(req, change);
        return { status: 200, body: publicKey(record) };
      }
    }
    throw conflict(`API key '${id}' kept changing under other edits; try again.`, "id");
  },
};
