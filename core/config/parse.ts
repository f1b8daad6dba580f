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

/**
 * For a value that matched no member of a union (`content` as a string or a list of parts, say), the
 * issue of the member that got furthest into the value: it names the field that is wrong
 * (`messages[0].content[0].input_audio.format`) rather than the union (`messages[0].content`). Union
 * members report paths from the union's place. A record key's issue carries the key's own message.
 */
export function innermostIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  // A record key that failed its own schema: its message says why ("Invalid key in record" does not).
  if (issue.code === "invalid_key") return { ...issue, message: issue.issues[0]?.message ?? issue.message };
  if (issue.code !== "invalid_union") return issue;
  let best: z.core.$ZodIssue = issue;
  for (const member of issue.errors) {
    for (const sub of member) {
      if (sub.path.length === 0) continue;
      const candidate = innermostIssue({ ...sub, path: [...issue.path, ...sub.path] } as z.core.$ZodIssue);
      if (candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best;
}

/** The value at an issue's path, reading own fields only (a path may name `constructor`). */
function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = value;
  for (const seg of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, seg)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[seg];
  }
  return at;
}

/**
 * Whether an issue is about a field left out: zod words it as a type, option or value mismatch
 * ("expected string, received undefined", "Invalid option"), which does not say the field is required.
 */
export const isMissing = (issue: z.core.$ZodIssue, value: unknown): boolean =>
  (issue.code === "invalid_type" || issue.code === "invalid_union" || issue.code === "invalid_value") &&
  issue.path.length > 0 &&
  valueAt(value, issue.path) === undefined;

/**
 * The first issue, with an unrecognized key's own name in the path rather than its parent's; with the
 * value judged (`value`), a field left out says so.
 */
export function firstIssue(error: z.ZodError, value?: unknown): { path: string; message: string } {
  const first = error.issues[0];
  if (!first) return { path: "", message: "invalid" };
  const issue = innermostIssue(first);
  if (issue.code === "unrecognized_keys") {
    return { path: jsonPath([...issue.path, issue.keys[0] ?? ""]), message: "unknown field" };
  }
  if (value !== undefined && isMissing(issue, value))
    return { path: jsonPath(issue.path), message: "required, but missing" };
  return { path: jsonPath(issue.path), message: issue.message };
}

/**
 * The path of the first own `__proto__` key in a parsed JSON value, if any. zod drops such a key
 * without a word (assigning it to the object it builds would set its prototype), so a header or a
 * price named so would vanish from a config or an admin write.
 */
export function protoKeyPath(value: unknown): string | undefined {
  const stack: Array<{ at: unknown; path: PropertyKey[] }> = [{ at: value, path: [] }];
  while (stack.length > 0) {
    const { at, path } = stack.pop()!;
    if (typeof at !== "object" || at === null) continue;
    if (Array.isArray(at)) {
      for (let i = 0; i < at.length; i++) stack.push({ at: at[i], path: [...path, i] });
      continue;
    }
    if (Object.hasOwn(at, "__proto__")) return jsonPath([...path, "__proto__"]);
    for (const [key, item] of Object.entries(at)) stack.push({ at: item, path: [...path, key] });
  }
  return undefined;
}

/** Validates a parsed config file; throws ConfigError naming the JSON path of the first bad field. */
export function parseConfig(raw: unknown): GatewayConfig {
  const proto = protoKeyPath(raw);
  if (proto) throw new ConfigError(proto, "'__proto__' cannot name an entry (it would be dropped)");
  const result = gatewayConfigSchema.safeParse(raw);
  if (!result.success) {
    const { path, message } = firstIssue(result.error, raw);
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
