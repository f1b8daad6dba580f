import type { KeyConfig } from "../config/types.ts";
import type { KeyStore } from "./port.ts";
import { generateKey, sha256Hex } from "./secret.ts";

export interface BootstrapInput {
  org: string;
  /** Keys given by the operator (GATEWAY_API_KEY / GATEWAY_ADMIN_KEY): stored by hash, never printed. */
  apiKey?: string | undefined;
  adminKey?: string | undefined;
  /** Keys declared in the config file, already hashed. */
  configured: KeyConfig[];
  /** The orgs there are once the config is applied: a bootstrap key in none of them moves to `org`. */
  orgs: ReadonlySet<string>;
  now: string;
}

export interface CreatedKey {
  id: string;
  role: "api" | "admin";
  org: string;
  /** The only time the plaintext exists outside the caller's hands. */
  secret: string;
}

export const BOOTSTRAP_API_KEY_ID = "bootstrap-api";
export const BOOTSTRAP_ADMIN_KEY_ID = "bootstrap-admin";

/**
 * First start: make sure an API key and an admin key exist. Operator-supplied keys replace the
 * bootstrap ones on every start; otherwise keys are generated only when none of that role exists.
 * Keys declared in the config file are applied on every start, and those it no longer declares removed.
 */
export async function bootstrapKeys(store: KeyStore, input: BootstrapInput): Promise<CreatedKey[]> {
  // A key the file declared last time and no longer does is removed: the file is where it was revoked.
  const declared = new Set(input.configured.map((k) => k.id));
  for (const k of await store.list())
    if (k.source === "config" && !declared.has(k.id)) await store.remove(k.id);
  for (const k of input.configured) {
    await store.put({
      id: k.id,
      org: k.org,
      role: k.role,
      name: k.name,
      sha256: k.sha256,
      models: k.models,
      budgets: k.budgets,
      rateLimits: k.rateLimits,
      createdAt: input.now,
      source: "config",
    });
  }
  const created: CreatedKey[] = [];
  const ensure = async (id: string, role: "api" | "admin", given: string | undefined) => {
    if (!given && (await store.count(role)) > 0) {
      // A bootstrap key from an earlier start whose org is gone (a file that renamed its orgs) moves to
      // the first org of the config now in force, as it was made in the first org then. One whose org
      // is still there stays: reordering a file's orgs must not move a key's spend and budgets.
      const existing = await store.get(id);
      if (existing && !input.orgs.has(existing.org)) await store.put({ ...existing, org: input.org });
      return;
    }
    const secret = given ?? generateKey();
    await store.put({
      id,
      org: input.org,
      role,
      name: given
        ? `${role} key from ${role === "api" ? "GATEWAY_API_KEY" : "GATEWAY_ADMIN_KEY"}`
        : `${role} key created at first start`,
      sha256: sha256Hex(secret),
      createdAt: input.now,
    });
    if (!given) created.push({ id, role, org: input.org, secret });
  };
  await ensure(BOOTSTRAP_API_KEY_ID, "api", input.apiKey);
  await ensure(BOOTSTRAP_ADMIN_KEY_ID, "admin", input.adminKey);
  return created;
}
