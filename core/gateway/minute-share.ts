import type { RateBucket, RateDecision, RateLimitStore } from "../ratelimit/port.ts";
import { rateLimitHeaders } from "./rate-headers.ts";
import type { SpendState } from "./spend-guard.ts";
import type { RequestContext } from "./types.ts";

// A request's share of the minute's rate limits, given back when no provider will see the request
// (a budget refusal after the minute was asked, a failed reservation, every circuit open).

/**
 * A request that will call no provider after all gives the minute back its share, requests and tokens,
 * once: its headers then count the minute without it. The give-back is also pending work (the host
 * awaits it before the invocation ends), so a caller that need not wait for it (a store that just
 * failed may keep failing) leaves it there; one whose next request must see it awaits it.
 */
export function giveBackMinute(ctx: RequestContext, headers: Record<string, string>): Promise<void> {
  const state = ctx.spend;
  if (!state || state.taken.length === 0 || !ctx.deps.rateLimits) return Promise.resolve();
  if (state.admitted) Object.assign(headers, headersWithout(state.taken, state.admitted, ctx.deps.now()));
  const given = giveBack(ctx.deps.rateLimits, state.taken, state);
  ctx.pending.push(given);
  return given;
}

/**
 * The headers of a request that gave its share back: they count the minute without it, as the next
 * response will; from `now`, as an admitted request's count from its store's answer.
 */
function headersWithout(buckets: RateBucket[], admitted: RateDecision, now: number): Record<string, string> {
  const given = admitted.remaining;
  const remaining = Object.fromEntries(buckets.map((b) => [b.name, (given[b.name] ?? 0) + b.amount]));
  return rateLimitHeaders(buckets, { ...admitted, remaining }, now);
}

/** A request no provider will see gives the minute back what it took of it. */
async function giveBack(limits: RateLimitStore, buckets: RateBucket[], state: SpendState): Promise<void> {
  // Cleared first: accounting, which may run meanwhile, then corrects no token bucket a second time,
  // and no second give-back follows.
  state.tokenBuckets = [];
  state.taken = [];
  await Promise.allSettled(buckets.map((b) => limits.adjust(b.name, -b.amount, state.windowStart)));
}
