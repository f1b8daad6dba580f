import type { z } from "zod";
import { badRequest } from "../api/errors.ts";
import { nestsDeeperThan } from "../api/json-depth.ts";
import { innermostIssue, isMissing, jsonPath } from "../config/parse.ts";

/**
 * Deeper than any real request nests (a tool's parameter schema is the deepest part, and OpenAI's
 * strict schemas stop at 10 levels). Past a few thousand levels the recursive steps after parsing
 * (schema conversion, JSON.stringify) overflow the stack, which would be a 500 for the caller's input.
 */
export const MAX_JSON_DEPTH = 128;

/** Parses the body text; malformed or too deeply nested JSON is a 400 in the OpenAI envelope, never a 500. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0)
    throw badRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("We could not parse the JSON body of your request.", null, "invalid_json");
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH))
    throw badRequest(
      `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
      null,
      "invalid_json",
    );
  return value;
}

/** Validates with zod; the first issue becomes a 400 naming its field path (`messages[0].role`). */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_request_body");
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const issue = first ? innermostIssue(first) : undefined;
  const path = issue ? jsonPath(issue.path) : "";
  let message = issue?.message ?? "Invalid request.";
  if (issue?.code === "unrecognized_keys") {
    // Named as the caller wrote them, but not without bound: a body of 400 000 made-up fields (or one
    // field named with megabytes) would otherwise come back whole, twice.
    const named = issue.keys.slice(0, MAX_NAMED).map(cut);
    const more = issue.keys.length - named.length;
    const keys = named.join("', '");
    const at = path ? `${path}.` : "";
    const rest = more > 0 ? ` (and ${more} more)` : "";
    return fail(`Unrecognized request argument supplied: '${at}${keys}'${rest}.`, `${at}${named[0]}`);
  }
  // OpenAI's own wording and code for a field left out (`messages`, or `from` on a spend report; an
  // enum's or literal's, such as a budget's `period`, is an `invalid_value` issue).
  if (issue && path && isMissing(issue, value))
    throw badRequest(`Missing required parameter: '${path}'.`, path, "missing_required_parameter");
  if (issue?.code === "invalid_union" || issue?.code === "invalid_type")
    message = `Invalid value for '${path}': ${message}.`;
  else message = `Invalid '${path}': ${message}.`;
  return fail(message, path || null);
}

/** Unknown fields an error names, at most, and the characters of each name it repeats. */
const MAX_NAMED = 10;
const MAX_NAME = 256;
const cut = (name: string) => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name);

function fail(message: string, param: string | null): never {
  throw badRequest(message, param, "invalid_request_body");
}
