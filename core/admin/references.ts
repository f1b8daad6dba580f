import { badRequest } from "../api/errors.ts";
import type { ModelConfig } from "../config/types.ts";
import { unknownKeyModelMessage, unknownKeyModels } from "../registry/key-models.ts";
import type { WriteGuard } from "../registry/port.ts";
import { backoffMs, DEFAULT_RETRY } from "../routing/retry.ts";
import { VersionChangedError } from "../storage/errors.ts";
import { conflict } from "./errors.ts";
import type { AdminDeps } from "./types.ts";

/**
 * Cross-references the zod schemas cannot see: they span entries. Checked against the store (not a
 * cached snapshot) before anything is written, so an invalid change writes nothing. The checks run
 * inside `guarded`, whose write lands only if the registry did not move since before them: a concurrent
 * admin cannot slip a conflicting change between the check and the write (in one region: a DynamoDB
 * condition sees only its own region's replica).
 */

/**
 * Reads, checks and writes again when another write came between: it is another admin's, usually one
 * that has nothing to do with this one. Past this many rounds the caller is told to try again (409).
 */
const GUARD_ATTEMPTS = 10;

/** Between rounds, full jitter over 10 ms × 2^round, at most 400 ms: racing admins spread out. */
const GUARD_BACKOFF = { ...DEFAULT_RETRY, baseDelayMs: 10, maxDelayMs: 400 };

/**
 * Runs `checkAndWrite` with the registry version read before it: its registry writes pass the guard on,
 * and throw VersionChangedError (writing nothing) when anything was written since; then it runs again.
 */
export async function guarded<T>(
  deps: AdminDeps,
  checkAndWrite: (guard: WriteGuard) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const guard = { ifVersion: await deps.registry.version() };
    try {
      return await checkAndWrite(guard);
    } catch (err) {
      if (!(err instanceof VersionChangedError)) throw err;
      if (attempt >= GUARD_ATTEMPTS)
        throw conflict("The registry kept changing under this request (other admin writes); try again.");
      await deps.sleep(backoffMs(attempt - 1, GUARD_BACKOFF, deps.random));
    }
  }
}

/** Every target's provider must exist: 400 naming the first offending `targets[i].provider`. */
export async function checkModelTargets(deps: AdminDeps, model: ModelConfig): Promise<void> {
  const known = new Map<string, boolean>();
  for (const [i, t] of model.targets.entries()) {
    let exists = known.get(t.provider);
    if (exists === undefined) {
      exists = (await deps.registry.get("provider", t.provider)) !== undefined;
      known.set(t.provider, exists);
    }
    if (!exists)
      throw badRequest(`Unknown provider '${t.provider}'.`, `targets[${i}].provider`, "unknown_provider");
  }
}

/** Every name of a key's allow-list must be an alias or `provider/model` of a provider: 400 naming the first. */
export async function checkKeyModels(deps: AdminDeps, models: readonly string[] | undefined): Promise<void> {
  if (!models) return;
  const ids = async (kind: "provider" | "model") =>
    new Set((await deps.registry.list(kind)).map((e) => e.id));
  const [first] = unknownKeyModels(models, await ids("model"), await ids("provider"));
  if (first)
    throw badRequest(
      `Unknown model: ${unknownKeyModelMessage(first.name)}.`,
      `models[${first.index}]`,
      "unknown_model",
    );
}

/** A key must belong to an existing org. */
export async function checkKeyOrg(deps: AdminDeps, org: string): Promise<void> {
  if (!(await deps.registry.get("org", org))) throw badRequest(`Unknown org '${org}'.`, "org", "unknown_org");
}

const names = (ids: string[]) => ids.map((id) => `'${id}'`).join(", ");

/** A provider still named by a model target cannot go: the alias would route nowhere. */
export async function checkProviderUnused(deps: AdminDeps, id: string): Promise<void> {
  const users = (await deps.registry.list("model"))
    .filter((m) => m.doc.targets.some((t) => t.provider === id))
    .map((m) => m.id);
  if (users.length > 0)
    throw conflict(
      `Provider '${id}' is used by model(s) ${names(users)}; change or delete them first.`,
      "id",
    );
  if ((await deps.registry.get("provider", id))?.source === "admin")
    await checkNotAllowedByFileKeys(deps, `Provider '${id}'`, (name) => name.startsWith(`${id}/`));
}

/** An admin-made alias a config-file key's allow-list names cannot go (checkNotAllowedByFileKeys). */
export async function checkModelUnused(deps: AdminDeps, alias: string): Promise<void> {
  if ((await deps.registry.get("model", alias))?.source === "admin")
    await checkNotAllowedByFileKeys(deps, `Model '${alias}'`, (name) => name === alias);
}

/**
 * What a key declared in the config file allows cannot go through the admin API when the file does not
 * declare it too (it would come back at the next start): that start would find the key naming nothing
 * and refuse the file (seed.ts). Admin-made keys do not hold it: a name of theirs that names nothing
 * only narrows what they reach.
 */
async function checkNotAllowedByFileKeys(
  deps: AdminDeps,
  what: string,
  allows: (name: string) => boolean,
): Promise<void> {
  const users = (await deps.keys.list())
    .filter((k) => k.source === "config" && k.models?.some(allows))
    .map((k) => k.id);
  if (users.length > 0)
    throw conflict(
      `${what} is allowed by config-file key(s) ${names(users)}; change the config file first.`,
      "id",
    );
}

/** An org that still has keys cannot go: those keys would authenticate into nothing. */
export async function checkOrgUnused(deps: AdminDeps, id: string): Promise<void> {
  const users = (await deps.keys.list()).filter((k) => k.org === id).map((k) => k.id);
  if (users.length > 0)
    throw conflict(`Org '${id}' is used by key(s) ${names(users)}; delete them first.`, "id");
}
