import type { ReserveItem } from "../budgets/port.ts";
import type { TokenUsage } from "../budgets/pricing.ts";
import type { UsageDetail } from "../events/usage.ts";
import { maskModelName } from "../pii/mask-names.ts";
import { usageEndpoint } from "./outcome.ts";
import { reserved } from "./spend-guard.ts";
import type { RequestContext, RequestOutcome } from "./types.ts";

/**
 * The model a usage event names. A request some provider was called for names what it asked for (its
 * rollups go under the target anyway); one refused before any call (an open circuit's targets skipped
 * included) names a configured alias, and any
 * other name `(other)`: refusals (an unknown model's 404 comes before the rate limit) must not let a
 * caller mint a spend-report row per made-up name, as /metrics does not let it mint series.
 */
function askedModel(ctx: RequestContext): string {
  const o = ctx.outcome;
  // A target skipped for its open circuit was not called: such a request was refused too.
  if (o.provider !== undefined || o.attempts.some((a) => a.outcome !== "skipped")) return o.model!;
  // Parentheses: no alias can be named so (config schema), so it never merges with a real one.
  return ctx.snapshot?.models.has(o.model!) ? o.model! : "(other)";
}

/** A provider answered the request (a stream cut after its start included). */
export const wasServed = (o: RequestOutcome): boolean => o.status === 200 && o.provider !== undefined;

/**
 * The provider model a usage event names, under which the request rolls up. A request no call served
 * names the last target it tried, unless it asked for a `provider/<name>` rather than an alias: a
 * made-up name its provider refused (404) would mint a spend-report row per name (a price is no bound:
 * any date suffix finds one), so it rolls up as `(other)`. An alias's targets are bounded by the config.
 */
function rolledUpModel(ctx: RequestContext): string | null {
  const o = ctx.outcome;
  if (o.providerModel === undefined) return null;
  return wasServed(o) || ctx.snapshot?.models.has(o.model!) ? o.providerModel : "(other)";
}

const maskedOrNull = (name: string | null): string | null => (name === null ? null : maskModelName(name));

/** A budget the request reserved against, at the limit it was admitted under. */
const admittedUnder = ({ counter, limitUsd }: ReserveItem) => ({
  scope: counter.scope,
  id: counter.id,
  period: counter.period,
  limitUsd,
});

/** The `llm.usage` event's detail for a request whose outcome is final and priced (accounting.ts). */
export function usageDetailFor(ctx: RequestContext, tokens: TokenUsage, usageReported: boolean): UsageDetail {
  const o = ctx.outcome;
  return {
    requestId: ctx.requestId,
    org: ctx.key!.org,
    keyId: ctx.key!.id,
    // Model names as a caller wrote them (`oa/alice@example.com`, which a lenient provider may serve)
    // become spend-report rows: masked like any text the gateway keeps.
    alias: maskModelName(askedModel(ctx)),
    endpoint: usageEndpoint(o.endpoint),
    provider: o.provider ?? null,
    providerModel: maskedOrNull(rolledUpModel(ctx)),
    region: ctx.deps.region,
    tokens: {
      input: tokens.input,
      output: tokens.output,
      cached: tokens.cached,
      reasoning: tokens.reasoning,
      cacheWrite: tokens.cacheWrite,
      ...(tokens.cacheWrite1h > 0 ? { cacheWrite1h: tokens.cacheWrite1h } : {}),
      ...(tokens.audio ? { audio: tokens.audio } : {}),
    },
    usageReported,
    // The provider's word, bounded: an event the aggregator's schema refused would be spend never counted.
    ...(o.serviceTier ? { serviceTier: o.serviceTier.slice(0, 64) } : {}),
    costUsd: o.costUsd ?? 0,
    priceVersion: o.priceVersion ?? "unpriced",
    // Durations come from the wall clock, which can step back (an NTP correction): never below 0, or
    // the event would fail its schema at the aggregator and the spend would go uncounted.
    latencyMs: Math.max(0, o.latencyMs),
    ttftMs: o.ttftMs === undefined ? null : Math.max(0, o.ttftMs),
    status: o.status,
    ...(o.budgetRefused ? { budgetRefused: o.budgetRefused } : {}),
    ...(reserved(ctx.spend) ? { budgetLimits: ctx.spend.items.map(admittedUnder) } : {}),
    stream: o.stream,
    attempts: o.attempts.map((a) => ({
      provider: a.provider,
      model: maskModelName(a.model),
      outcome: a.outcome,
      ...(a.code ? { code: a.code } : {}),
      ms: Math.max(0, a.ms),
      ...(a.answered ? { answered: true, costUsd: a.costUsd ?? 0 } : {}),
    })),
    time: new Date(ctx.startedAt).toISOString(),
  };
}
