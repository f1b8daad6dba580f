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
 * What applying `config` would leave pointing at nothing. Applying a file replaces the entries it
 * declared last time, so one it no longer declares goes, while entries made through the admin API
 * stay: an admin-made model on a provider the file dropped would route nowhere, and an admin-made key
 * in an org the file dropped would authenticate into nothing. The admin API refuses those deletes
 * (409), and a file must not make them silently. `orgs` are the orgs the file ends up declaring (the
 * default one when it declares none). Empty when nothing would dangle.
 */
export function danglingAfterConfig(
  config: Pick<GatewayConfig, "providers" | "models">,
  orgs: ReadonlyArray<{ id: string }>,
  stored: StoredEntries,
): string[] {
  const admin = <K extends "provider" | "model" | "org">(
    entries: RegistryEntry<K>[],
    declared: Set<string>,
  ) => entries.filter((e) => e.source === "admin" && !declared.has(e.id));
  const declaredModels = new Set(config.models.map((m) => m.alias));
  const providers = new Set([
    ...config.providers.map((p) => p.id),
    ...stored.providers.filter((p) => p.source === "admin").map((p) => p.id),
  ]);
  const orgIds = new Set([
    ...orgs.map((o) => o.id),
    ...stored.orgs.filter((o) => o.source === "admin").map((o) => o.id),
  ]);
  const out: string[] = [];
  for (const m of admin(stored.models, declaredModels)) {
    const missing = [...new Set(m.doc.targets.map((t) => t.provider))].filter((p) => !providers.has(p));
    for (const p of missing)
      out.push(
        `model '${m.id}' (made through the admin API) routing to provider '${p}', which the config no longer declares`,
      );
  }
  // Keys the file declares are its own (checked against its orgs when it was parsed; the file removes
  // those it no longer declares), and the bootstrap keys move to its first org (bootstrap.ts).
  for (const k of stored.keys) {
    if (k.source === "config" || BOOTSTRAP_IDS.has(k.id) || orgIds.has(k.org)) continue;
    out.push(`key '${k.id}' in org '${k.org}', which the config no longer declares`);
  }
  return out;
}
