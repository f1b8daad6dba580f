import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, parseConfigText } from "../../core/config/parse.ts";
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
