import { DEFAULT_CONFIG } from "../../core/config/defaults.ts";
import type { ProviderConfig } from "../../core/config/types.ts";

/**
 * The environment providers read their keys and base URLs from: only the variables the built-in
 * providers name, those the config file's providers name, and those the operator lists in
 * `GATEWAY_PROVIDER_ENV` (comma- or space-separated: for providers made through the admin API). A
 * provider made through the admin API names its own variable, and would otherwise send any variable's
 * value (a CI token, the Lambda role's credentials) to a URL of the admin's choosing.
 */
export function providerEnv(
  env: Readonly<Record<string, string | undefined>>,
  providers: readonly ProviderConfig[],
): Record<string, string | undefined> {
  const names = new Set<string>();
  for (const p of [...DEFAULT_CONFIG.providers, ...providers]) {
    if (p.apiKeyEnv) names.add(p.apiKeyEnv);
    if (p.baseUrlEnv) names.add(p.baseUrlEnv);
  }
  for (const name of (env.GATEWAY_PROVIDER_ENV ?? "").split(/[\s,]+/)) if (name) names.add(name);
  const out: Record<string, string | undefined> = Object.create(null);
  for (const name of names) if (env[name] !== undefined) out[name] = env[name];
  return out;
}
