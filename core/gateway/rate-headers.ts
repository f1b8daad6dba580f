import type { RateBucket, RateDecision } from "../ratelimit/port.ts";

/**
 * OpenAI's rate-limit headers. With key and org limits both set, each header reports the tighter of the
 * two (the smaller remaining), since that is the one the caller will hit first.
 */
export function rateLimitHeaders(
  buckets: RateBucket[],
  decision: RateDecision,
  now: number,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const reset = duration(Math.max(0, Math.ceil((decision.resetAt - now) / 1000)));
  for (const kind of ["requests", "tokens"] as const) {
    const mine = buckets.filter((b) => b.name.endsWith(`:${kind}`));
    if (mine.length === 0) continue;
    const tightest = mine.reduce((a, b) =>
      (decision.remaining[b.name] ?? 0) < (decision.remaining[a.name] ?? 0) ? b : a,
    );
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, decision.remaining[tightest.name] ?? 0));
    headers[`x-ratelimit-reset-${kind}`] = reset;
  }
  return headers;
}

/** Seconds as OpenAI writes a reset (Go's duration format): `59s`, `1m0s`, `6m30s`. */
const duration = (seconds: number): string =>
  seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
