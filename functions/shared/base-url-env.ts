import { httpUrl } from "../../core/config/http-url.ts";
import { ConfigError, firstIssue } from "../../core/config/parse.ts";
import type { GatewayConfig } from "../../core/config/types.ts";

/**
 * A base URL from the environment (`baseUrlEnv`: OPENAI_BASE_URL, …) meets the rule a config file's
 * `baseUrl` does, at start-up: else every call to that provider would fail as unreachable.
 */
export function checkBaseUrlEnv(config: GatewayConfig, env: Record<string, string | undefined>): void {
  for (const p of config.providers) {
    const value = p.baseUrlEnv ? env[p.baseUrlEnv] : undefined;
    if (!p.baseUrlEnv || !value) continue;
    // The value is not repeated: it may hold credentials (user:password@), which the rule refuses.
    // The rule's own message says why (neither of its messages quotes the value).
    const checked = httpUrl().safeParse(value);
    if (!checked.success)
      throw new ConfigError(
        p.baseUrlEnv,
        `${firstIssue(checked.error).message}, like providers[].baseUrl (provider '${p.id}')`,
      );
  }
}
