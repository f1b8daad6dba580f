import type { GatewayConfig } from "../config/types.ts";
import { BOOTSTRAP_ADMIN_KEY_ID, BOOTSTRAP_API_KEY_ID } from "../keys/bootstrap.ts";
import type { ApiKeyRecord } from "../keys/port.ts";
import type { RegistryEntry } from "./port.ts";

const BOOTSTRAP_IDS = new Set([BOOTSTRAP_API_KEY_ID, BOOTSTRAP_ADMIN_KEY_ID]);

/** What the stores hold before a config file is applied. */
export interface StoredEntries {
  providers: RegistryEntry<"provider">[];
  models: RegistryEntry<"model">[];
  orgs: RegistryEntry<"org">[];
  keys: ApiKeyRecord[];
}

/**
 * What applying `config` would leave pointing at nothing. Applying a file removes the entries it
 * declared last time and no longer does, while entries made through the admin API stay: an admin-made
 * model on a provider the file dropped would route nowhere, and an admin-made key in an org the file
 * dropped would authenticate into nothing. The admin API refuses those deletes (409), and a file must
 * not make them silently. Only what this application removes counts: a reference that already points
 * at nothing (an earlier version allowed it) does not stop a start that changes nothing about it.
 * `orgs` are the orgs the file ends up declaring (the default one when it declares none). Empty when
 * nothing would dangle.
 */
export function danglingAfterConfig(
  config: Pick<GatewayConfig, "providers" | "models" | "keys">,
  orgs: ReadonlyArray<{ id: string }>,
  stored: StoredEntries,
): string[] {
  const removed = <K extends "provider" | "org">(entries: RegistryEntry<K>[], kept: string[]) => {
    const keep = new Set(kept);
    return new Set(entries.filter((e) => e.source === "config" && !keep.has(e.id)).map((e) => e.id));
  };
  const providers = removed(
    stored.providers,
    config.providers.map((p) => p.id),
  );
  const orgIds = removed(
    stored.orgs,
    orgs.map((o) => o.id),
  );
  // What the file declares is its own: rewritten from it, and checked against it when it was parsed.
  const declaredModels = new Set(config.models.map((m) => m.alias));
  const declaredKeys = new Set(config.keys.map((k) => k.id));
  const out: string[] = [];
  for (const m of stored.models) {
    if (m.source !== "admin" || declaredModels.has(m.id)) continue;
    for (const p of new Set(m.doc.targets.map((t) => t.provider)))
      if (providers.has(p))
        out.push(
          `model '${m.id}' (made through the admin API) routing to provider '${p}', which the config no longer declares`,
        );
  }
  // The file removes its own keys it no longer declares, and the bootstrap keys move (bootstrap.ts).
  for (const k of stored.keys) {
    if (k.source === "config" || declaredKeys.has(k.id) || BOOTSTRAP_IDS.has(k.id)) continue;
    if (orgIds.has(k.org)) out.push(`key '${k.id}' in org '${k.org}', which the config no longer declares`);
  }
  return out;
}
