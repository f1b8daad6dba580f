import type { GatewayConfig } from "../config/types.ts";
import type { RegistryEntry } from "./port.ts";

/**
 * Names in a key's `models` allow-list that name nothing the gateway could route: neither an alias nor
 * `provider/model` of a provider it has. Such a name can only be a typo, and the key would be refused
 * every model it was meant to reach (403 `model_not_allowed`, or 404 for the name itself). Checked when
 * a key is written (config file, admin API). What a config-file key names cannot be deleted through
 * the admin API (admin/references.ts), or the next start would refuse the file; deleting what an
 * admin-made key names leaves the name in place, narrowing what the key reaches.
 */
export function unknownKeyModels(
  models: readonly string[] | undefined,
  aliases: ReadonlySet<string>,
  providers: ReadonlySet<string>,
): Array<{ index: number; name: string }> {
  const out: Array<{ index: number; name: string }> = [];
  for (const [index, name] of (models ?? []).entries()) {
    const slash = name.indexOf("/");
    const known =
      slash < 0 ? aliases.has(name) : providers.has(name.slice(0, slash)) && slash < name.length - 1;
    if (!known) out.push({ index, name });
  }
  return out;
}

/** Why a name of a key's allow-list is refused; the name is the caller's and is quoted capped. */
export const unknownKeyModelMessage = (name: string): string =>
  `'${name.slice(0, 128)}' is neither a model alias nor provider/model of a configured provider`;

/**
 * The first name a config file's keys allow that names nothing once the file is applied: neither the
 * file's aliases and providers nor those made through the admin API (which it keeps). Its JSON path
 * (`keys[2].models[0]`) and why.
 */
export function firstUnknownKeyModel(
  config: Pick<GatewayConfig, "providers" | "models" | "keys">,
  stored: { providers: RegistryEntry<"provider">[]; models: RegistryEntry<"model">[] },
): { path: string; message: string } | undefined {
  const admin = <K extends "provider" | "model">(entries: RegistryEntry<K>[]) =>
    entries.filter((e) => e.source === "admin").map((e) => e.id);
  const aliases = new Set([...config.models.map((m) => m.alias), ...admin(stored.models)]);
  const providers = new Set([...config.providers.map((p) => p.id), ...admin(stored.providers)]);
  for (const [i, k] of config.keys.entries()) {
    const [first] = unknownKeyModels(k.models, aliases, providers);
    if (first)
      return { path: `keys[${i}].models[${first.index}]`, message: unknownKeyModelMessage(first.name) };
  }
  return undefined;
}
