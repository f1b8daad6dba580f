import { RETRY_DEFAULTS } from "../config/routing-schema.ts";
import type { RetryConfig } from "../config/types.ts";

export type RetryPolicy = Required<RetryConfig>;

export const DEFAULT_RETRY: RetryPolicy = { ...RETRY_DEFAULTS };

export const retryPolicy = (config: RetryConfig | undefined): RetryPolicy => ({
  ...DEFAULT_RETRY,
  ...config,
});

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base × 2^retry)). Full jitter
 * spreads retries of many callers hitting one failing provider instead of synchronising them.
 */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as RFC 9110 §10.2.3 defines it: delay-seconds or an HTTP-date. Returns milliseconds
 * from `now`, or undefined when the header is absent or unparseable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // All three HTTP-date forms (IMF-fixdate, RFC 850, asctime) open with a day name. Checking that keeps
  // Date.parse's leniency out: it reads "-5" or "1.5" as dates in 2001, i.e. "retry at once".
  if (!/^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
