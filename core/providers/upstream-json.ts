import type { z } from "zod";
import { upstreamError } from "../api/errors.ts";

/**
 * Validates a provider payload against the documented shape. A mismatch is the provider's fault, so it
 * surfaces as 502, naming the provider and the first bad field, never as a 500.
 */
export function parseUpstream<T extends z.ZodType>(schema: T, value: unknown, provider: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw upstreamError(
    `Provider '${provider}' returned an unexpected response${where}.`,
    "upstream_malformed",
  );
}

/** JSON.parse for provider text: broken JSON is a 502, not a crash. */
export function parseUpstreamJson(text: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw upstreamError(
      `Provider '${provider}' returned a body that is not valid JSON.`,
      "upstream_malformed",
    );
  }
}
