import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, parseConfigText } from "../../core/config/parse.ts";
import { httpUrl } from "../../core/config/schema.ts";
import type { GatewayConfig } from "../../core/config/types.ts";

/** Reads and validates a config file; every failure is a ConfigError naming the file or the bad field. */
export function loadConfigFile(file: string): GatewayConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    // Why, in the system's words: ENOENT (no such file), EISDIR, EACCES.
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError("", `cannot read config file ${path}${code ? ` (${code})` : ""}`);
  }
  // A byte-order mark (editors on Windows write one) is not JSON, and would be reported as an invisible
  // unexpected token.
  return parseConfigText(text.replace(/^\uFEFF/, ""), path);
}

/**
 * A base URL from the environment (`baseUrlEnv`: OPENAI_BASE_URL, …) meets the rule a config file's
 * `baseUrl` does, at start-up: else every call to that provider would fail as unreachable.
 */
export function checkBaseUrlEnv(config: GatewayConfig, env: Record<string, string | undefined>): void {
  for (const p of config.providers) {
    const value = p.baseUrlEnv ? env[p.baseUrlEnv] : undefined;
    if (!p.baseUrlEnv || !value) continue;
    // The value is not repeated: it may hold credentials (user:password@), which the rule refuses.
    if (!httpUrl().safeParse(value).success)
      throw new ConfigError(
        p.baseUrlEnv,
        `must be an http(s) URL (lowercase scheme) with a host and no credentials in it, like providers[].baseUrl (provider '${p.id}')`,
      );
  }
}
