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
  } catch {
    throw new ConfigError("", `cannot read config file ${path}`);
  }
  return parseConfigText(text, path);
}
