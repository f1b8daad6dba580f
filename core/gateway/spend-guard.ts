import { badRequest, GatewayError, NO_RETRY } from "../api/errors.ts";
import { counterFor, keyCounterId } from "../budgets/counters.ts";
import { limitNanos, reserveNanos, usdAmountText, usdText } from "../budgets/money.ts";
import type { ReservedFor, ReserveItem, ReserveResult } from "../budgets/port.ts";
import { type Price, priceFor, priceVersionOf, type TokenUsage } from "../budgets/pricing.ts";
import { refusedAsItStands, reserveAfterSettlements } from "../budgets/settling.ts";
import { maskModelName } from "../pii/mask-names.ts";
import type { RateBucket, RateDecision } from "../ratelimit/port.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";
import { giveBackMinute } from "./minute-share.ts";
import { usageEndpoint } from "./outcome.ts";
import { describeBucket, rateBuckets, refuseTooLarge } from "./rate-buckets.ts";
import { rateLimitHeaders } from "./rate-headers.ts";
import type { RequestContext } from "./types.ts";

/** How a request bounds its cost and its token count, per target. */
export interface SpendBounds {
  /**
   * Worst-case cost at a target with the given price (estimate.ts), knowing the input the provider
   * counted already (`counted`: priced as counted, the bound's input only beyond it) and the tier it
   * said serves the request (`servedTier`), once it has said.
   */
  worstCaseUsd(target: ResolvedTarget, price: Price, counted?: TokenUsage, servedTier?: string): number;
  /** Worst-case tokens, charged to tokens-per-minute limits and corrected afterwards. */
  tokens: number;
  /** What makes the bound smaller, for a refusal whose bound alone passes a whole budget. */
  smallerBy: string;
}

/** What the guard decided, kept for settling once the request's real usage is known. */
export interface SpendState {
  prices: Map<string, Price>;
  /** The targets the request may use, and its cost bound at each: prices attempts that failed billed. */
  targets: ResolvedTarget[];
  bounds: SpendBounds;
  reservationUsd: number;
  /** The budgets reserved against (their counters and limits), for top-ups; empty when none was. */
  items: ReserveItem[];
  /** Whose reservation it is, kept with it and with its top-ups (port.ts). */
  reservedFor?: ReservedFor;
  /** Top-ups reserved for attempts billed before a later call (coverBilledAttempt): id and amount. */
  covers: Array<{ id: string; usd: number }>;
  tokenBuckets: string[];
  tokenCharge: number;
  windowStart: number;
  /** The minute's buckets the request took a share of, until it gives the share back. */
  taken: RateBucket[];
  /** The store's answer when it took them: the headers of a give-back count from it. */
  admitted?: RateDecision;
}

/** Whether the request reserved against a budget (guardSpend). */
export const reserved = (spend: SpendState | undefined): spend is SpendState =>
  (spend?.items.length ?? 0) > 0;

export const targetKey = (t: ResolvedTarget): string => `${t.provider.id}/${t.model}`;

/** The budgets that apply to the request's key: its org's, then its own. */
function budgetsOf(ctx: RequestContext) {
  const key = ctx.key!;
  const org = ctx.snapshot!.orgs.get(key.org);
  return [
    ...(org?.budgets ?? []).map((b) => ({ scope: "org" as const, id: key.org, ...b })),
    ...(key.budgets ?? []).map((b) => ({ scope: "key" as const, id: keyCounterId(key.org, key.id), ...b })),
  ];
}

/** Whether the request will reserve against a budget (guardSpend), before it does. */
export const underBudget = (ctx: RequestContext): boolean =>
  ctx.deps.budgets !== undefined && budgetsOf(ctx).length > 0;

/**
 * The targets a request may be sent to: under a budget only priced ones (an unpriced model would be
 * spent as $0); none is a 400 `model_not_priced`. The routes narrow their plan with it before anything
 * else is decided (first-taker.ts), and guardSpend again, for any other caller.
 */
export function spendablePlan(ctx: RequestContext, plan: ResolvedTarget[]): ResolvedTarget[] {
  if (budgetsOf(ctx).length === 0) return plan;
  const priced = plan.filter((t) => priceFor(t.provider.kind, t.model, t.provider.prices) !== undefined);
  if (priced.length === 0) {
    throw badRequest(
      `Model '${ctx.outcome.model}' has no price, and this request is under a budget, so it cannot be accounted.`,
      "model",
      "model_not_priced",
    );
  }
  return priced;
}

/**
 * Before any upstream call: rate limits, then the budget. A budgeted request may only go to priced
 * targets (an unpriced model would be spent as $0), and reserves its worst-case cost across every
 * target it may fall back to, atomically against every applicable budget (org and key).
 */
export async function guardSpend(
  ctx: RequestContext,
  plan: ResolvedTarget[],
  bounds: SpendBounds,
  headers: Record<string, string>,
): Promise<ResolvedTarget[]> {
  const { deps } = ctx;
  const key = ctx.key!;
  const org = ctx.snapshot!.orgs.get(key.org);
  const budgets = budgetsOf(ctx);
  const prices = new Map<string, Price>();
  for (const t of plan) {
    const price = priceFor(t.provider.kind, t.model, t.provider.prices);
    if (price) prices.set(targetKey(t), price);
  }
  const priced = spendablePlan(ctx, plan);
  const state: SpendState = {
    prices,
    targets: plan,
    bounds,
    reservationUsd: 0,
    items: [],
    covers: [],
    tokenBuckets: [],
    tokenCharge: 0,
    windowStart: 0,
    taken: [],
  };
  ctx.spend = state;

  const reservation =
    budgets.length > 0 && deps.budgets ? reservationOf(ctx, budgets, priced, prices, bounds) : undefined;
  const buckets = rateBuckets(deps.region, key.org, org?.rateLimits, key.id, key.rateLimits, bounds.tokens);
  refuseTooLarge(buckets);
  if (reservation && deps.budgets && buckets.length > 0 && deps.rateLimits) {
    // A budget already spent refuses before the minute's limits are touched: between taking a share and
    // giving it back, a request its budget refuses would hold slots its org's other keys wait for (a
    // key with nothing left could keep them waiting for as long as it keeps asking).
    const refused = await refusedAsItStands(deps.budgets, reservation.items);
    if (refused) throw budgetRefusal(ctx, refused, reservation.amount, bounds);
  }
  // The minute is the one the store is asked in: read after the check above, which may have waited.
  const now = deps.now();
  state.windowStart = now - (now % 60_000);
  if (buckets.length > 0 && deps.rateLimits) {
    const decision = await deps.rateLimits.consume(buckets, now);
    // The window is the one the request arrived in, but the waits are counted from the answer: a
    // slow store must not make Retry-After point at a moment already gone.
    const answeredAt = deps.now();
    Object.assign(headers, rateLimitHeaders(buckets, decision, answeredAt));
    if (!decision.ok) {
      const retryAfter = Math.max(1, Math.ceil((decision.resetAt - answeredAt) / 1000));
      throw new GatewayError(
        429,
        decision.refusedBy?.endsWith(":tokens") ? "tokens" : "requests",
        `Rate limit reached for ${describeBucket(decision.refusedBy)}. Try again in ${retryAfter}s.`,
        {
          code: "rate_limit_exceeded",
          headers: { ...rateLimitHeaders(buckets, decision, answeredAt), "retry-after": String(retryAfter) },
        },
      );
    }
    state.tokenBuckets = buckets.filter((b) => b.name.endsWith(":tokens")).map((b) => b.name);
    state.tokenCharge = bounds.tokens;
    state.taken = buckets;
    state.admitted = decision;
  }

  if (reservation && deps.budgets) {
    const { amount, reservedFor, items } = reservation;
    let result: ReserveResult;
    try {
      result = await reserveAfterSettlements(deps.budgets, ctx.requestId, items, reservedFor);
    } catch (err) {
      // The store failed, and may have written the reservation before it did (a reply lost after the
      // commit). Settled to this request's cost, $0, by accounting like any reservation (a settle of a
      // reservation never written does nothing), and the minute's share goes back: no provider saw it.
      state.reservationUsd = amount;
      state.items = items;
      // After the answer, not before it: the store that just failed may keep failing, and the caller
      // would wait out its timeouts twice. The host awaits pending work before the invocation ends.
      void giveBackMinute(ctx, headers);
      throw err;
    }
    if (!result.ok) {
      // Refused before any provider saw it: the request takes none of the minute's requests or tokens,
      // or a budget raised a moment later would still find the caller locked out until the window ends.
      await giveBackMinute(ctx, headers);
      throw budgetRefusal(ctx, result, amount, bounds);
    }
    state.reservationUsd = amount;
    state.items = items;
    state.reservedFor = reservedFor;
  }
  return priced;
}

/** What the request reserves, against which budgets: its worst case at the dearest target it may use. */
function reservationOf(
  ctx: RequestContext,
  budgets: ReturnType<typeof budgetsOf>,
  priced: ResolvedTarget[],
  prices: Map<string, Price>,
  bounds: SpendBounds,
): { amount: number; reservedFor: ReservedFor; items: ReserveItem[] } {
  const key = ctx.key!;
  const worst = priced
    .map((t) => {
      const price = prices.get(targetKey(t))!;
      return { price, usd: bounds.worstCaseUsd(t, price) };
    })
    .reduce((a, b) => (b.usd > a.usd ? b : a));
  const amount = worst.usd;
  const reservedFor: ReservedFor = {
    requestId: ctx.requestId,
    org: key.org,
    keyId: key.id,
    // Kept in the reservation, and named by the usage event a stopped gateway's request is charged
    // with (interrupted.ts): masked as the request's own event names it (usage-detail.ts).
    alias: maskModelName(ctx.outcome.model!),
    endpoint: usageEndpoint(ctx.outcome.endpoint),
    stream: ctx.outcome.stream,
    startedAt: ctx.startedAt,
    priceVersion: priceVersionOf(worst.price),
  };
  const items: ReserveItem[] = budgets.map((b) => ({
    // The request's start, which its usage event carries: counter and rollups agree on the period
    // of a request that started just before midnight UTC and reached here after it.
    counter: counterFor(b.scope, b.id, b, ctx.startedAt),
    amountUsd: amount,
    limitUsd: b.limitUsd,
  }));
  return { amount, reservedFor, items };
}

/** The refusal of a request whose worst case (`amount`) does not fit the budget `result` names. */
function budgetRefusal(
  ctx: RequestContext,
  result: Extract<ReserveResult, { ok: false }>,
  amount: number,
  bounds: SpendBounds,
): GatewayError {
  // A bound past the whole limit (compared as the stores do) is refused whatever was spent.
  const pastLimit = reserveNanos(amount) > limitNanos(result.limitUsd);
  const alone = pastLimit
    ? `, more than the whole budget: only a smaller request (${bounds.smallerBy}) can fit`
    : "";
  return budgetExceeded(
    ctx,
    result,
    `this request may cost up to $${usdAmountText(amount)}${alone}`,
    pastLimit,
  );
}

/** The refusal; the outcome remembers which budget refused, for its 100 % alert (cost aggregator). */
export function budgetExceeded(
  ctx: RequestContext,
  result: Extract<ReserveResult, { ok: false }>,
  why: string,
  pastLimit = false,
): GatewayError {
  const c = result.counter;
  ctx.outcome.budgetRefused = {
    scope: c.scope,
    id: c.id,
    period: c.period,
    periodKey: c.periodKey,
    limitUsd: result.limitUsd,
    ...(pastLimit ? { pastLimit: true as const } : {}),
  };
  return new GatewayError(
    429,
    "rate_limit_error",
    `Budget exceeded: ${c.scope} '${c.id}' ${c.period === "day" ? "daily" : "monthly"} budget of $${usdText(result.limitUsd)} ` +
      `(spent or reserved $${usdAmountText(result.spentUsd)}; ${why}).`,
    // A budget does not refill within an SDK's retries: the caller gets the refusal at once.
    { code: "budget_exceeded", param: `${c.scope}:${c.id}:${c.period}`, headers: NO_RETRY },
  );
}
