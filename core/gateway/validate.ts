import type { z } from "zod";
import { badRequest } from "../api/errors.ts";
import { nestsDeeperThan } from "../api/json-depth.ts";
import { innermostIssue, jsonPath } from "../config/parse.ts";

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
    const keys = issue.keys.join("', '");
    const at = path ? `${path}.` : "";
    return fail(`Unrecognized request argument supplied: '${at}${keys}'.`, `${at}${issue.keys[0]}`);
  }
  if (issue?.code === "invalid_union" || issue?.code === "invalid_type")
    message = `Invalid value for '${path}': ${message}.`;
  else message = `Invalid '${path}': ${message}.`;
  return fail(message, path || null);
}

function fail(message: string, param: string | null): never {
  throw badRequest(message, param, "invalid_request_body");
}
