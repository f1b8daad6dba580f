import { GatewayError, NO_RETRY } from "../api/errors.ts";
import { keyCounterId } from "../budgets/counters.ts";
import type { RateLimitConfig } from "../config/types.ts";
import type { RateBucket } from "../ratelimit/port.ts";

/**
 * Bucket names carry the region: in a global table two regions adding to one window item would lose
 * counts (last writer wins), so each region counts its own windows and the limits apply per region.
 */
export function rateBuckets(
  region: string,
  org: string,
  orgLimits: RateLimitConfig | undefined,
  keyId: string,
  keyLimits: RateLimitConfig | undefined,
  tokens: number,
): RateBucket[] {
  const out: RateBucket[] = [];
  const add = (prefix: string, l: RateLimitConfig | undefined) => {
    if (l?.requestsPerMinute) out.push({ name: `${prefix}:requests`, limit: l.requestsPerMinute, amount: 1 });
    if (l?.tokensPerMinute) out.push({ name: `${prefix}:tokens`, limit: l.tokensPerMinute, amount: tokens });
  };
  add(`${region}:key:${keyCounterId(org, keyId)}`, keyLimits);
  add(`${region}:org:${org}`, orgLimits);
  return out;
}

/**
 * A request whose worst case exceeds a tokens-per-minute limit fits in no window: waiting cannot help,
 * so it is refused at once with `x-should-retry: false` and no Retry-After (an SDK would otherwise
 * retry it in vain), as OpenAI answers "Request too large … on tokens per min". Nothing is charged.
 */
export function refuseTooLarge(buckets: RateBucket[]): void {
  const over = buckets.find((b) => b.name.endsWith(":tokens") && b.amount > b.limit);
  if (!over) return;
  throw new GatewayError(
    429,
    "tokens",
    `Request too large for ${describeBucket(over.name)}: limit ${over.limit}, this request may use up to ` +
      `${over.amount} tokens (its input's bound plus its output limit). Reduce the input or max_tokens.`,
    { code: "rate_limit_exceeded", headers: NO_RETRY },
  );
}

export const describeBucket = (name: string | undefined) => {
  const [, scope, id, kind] = (name ?? ":::").split(":");
  return `${kind === "tokens" ? "tokens" : "requests"} per minute on ${scope} '${id}'`;
};
