import { z } from "zod";

/**
 * The routing settings of the config schema (schema.ts): timeouts, circuit breakers and retry policies,
 * each field's range, and the rules across a policy's own fields.
 */

/**
 * The longest delay a Node timer takes (2^31 − 1 ms, about 24.8 days). A larger one fires at once, with a
 * TimeoutOverflowWarning, so a generous timeout would turn into "every call times out".
 */
export const MAX_TIMER_MS = 2_147_483_647;
export const millis = () => z.number().int().positive().max(MAX_TIMER_MS).optional();

export const timeoutsSchema = z
  .object({
    connectMs: millis().describe("TCP/TLS connect timeout"),
    firstByteMs: millis().describe(
      "From the call's start until the response headers (non-stream) or the first streamed event. Unset: 60 000 for a stream and embeddings, 590 000 for a non-stream chat answer (whose headers come only once it is whole); never past totalMs",
    ),
    idleMs: millis().describe(
      "Longest silence between streamed events (from the first on), or in a non-stream body",
    ),
    totalMs: millis().describe("Whole upstream call"),
  })
  .strict();

export const positiveInt = () => z.number().int().positive().optional();

export const breakerSchema = z
  .object({
    failureThreshold: positiveInt().describe("Consecutive failures that open the circuit (default 5)"),
    failureRate: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe("Failure rate over the window that opens the circuit (default 0.5)"),
    minimumRequests: positiveInt().describe("Requests in the window before the rate counts (default 10)"),
    windowMs: millis().describe("Sliding window for the failure rate (default 30 000)"),
    cooldownMs: millis().describe("Open time before half-open probes (default 15 000)"),
    halfOpenProbes: positiveInt().describe("Concurrent probes allowed while half-open (default 1)"),
  })
  .strict();

/** A retry policy's defaults (routing/retry.ts applies them): what the descriptions below say. */
export const RETRY_DEFAULTS = {
  maxAttempts: 4,
  retriesPerTarget: 1,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  retryAfterCapMs: 5_000,
} as const;

export const retrySchema = z
  .object({
    maxAttempts: positiveInt().describe(
      "Upstream calls per request, all targets and retries included (default 4)",
    ),
    retriesPerTarget: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Extra tries on one target before moving on (default 1)"),
    baseDelayMs: millis().describe(
      "Backoff base; the delay is full jitter over base × 2^retry (default 100)",
    ),
    maxDelayMs: millis().describe("Backoff ceiling (default 2 000)"),
    retryAfterCapMs: millis().describe(
      "Longest provider Retry-After honoured before falling back instead (default 5 000)",
    ),
  })
  .strict()
  // A base given past the ceiling makes every delay the ceiling: not what either number says. (A
  // ceiling alone under the default base is a plain cap on every delay, and is taken.)
  .superRefine((r, ctx) => {
    const max = r.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
    if (r.baseDelayMs !== undefined && r.baseDelayMs > max)
      ctx.addIssue({
        code: "custom",
        path: ["baseDelayMs"],
        message: `${r.baseDelayMs} exceeds maxDelayMs (${max}${r.maxDelayMs === undefined ? ", the default" : ""})`,
      });
  });
