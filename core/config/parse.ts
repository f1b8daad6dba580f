import type { z } from "zod";
import { type GatewayConfig, gatewayConfigSchema } from "./schema.ts";

/** Renders a zod path the way users write it: `models[0].targets[1].provider`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

export class ConfigError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = "ConfigError";
    this.path = path;
  }
}

/** The first issue, with an unrecognized key's own name in the path rather than its parent's. */
export function firstIssue(error: z.ZodError): { path: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { path: "", message: "invalid" };
  if (issue.code === "unrecognized_keys") {
    return { path: jsonPath([...issue.path, issue.keys[0] ?? ""]), message: "unknown field" };
  }
  return { path: jsonPath(issue.path), message: issue.message };
}

/** Validates a parsed config file; throws ConfigError naming the JSON path of the first bad field. */
export function parseConfig(raw: unknown): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(raw);
  if (!result.success) {
    const { path, message } = firstIssue(result.error);
    throw new ConfigError(path, message);
  }
  return result.data;
}

export function parseConfigText(text: string, source: string): GatewayConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("", `${source} is not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(raw);
}
