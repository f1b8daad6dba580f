import { nanos, usdOf } from "../budgets/money.ts";
import {
  costUsd,
  embeddingCostUsd,
  PRICE_VERSION,
  type Price,
  priceFor,
  priceVersionOf,
} from "../budgets/pricing.ts";
import { trackSettlement } from "../budgets/settling.ts";
import { PublishError } from "../events/port.ts";
import { USAGE_DETAIL_TYPE, type UsageDetail } from "../events/usage.ts";
import type { AttemptRecord } from "./attempts.ts";
import { billedCostUsd, worstCaseAtUsd } from "./billed-attempts.ts";
import { wholeTokens } from "./outcome.ts";
import { reserved, type SpendState } from "./spend-guard.ts";
import type { RequestContext } from "./types.ts";
import { usageDetailFor, wasServed } from "./usage-detail.ts";

/**
 * After the outcome is final: price it from the provider's usage, correct the rate-limit token charge,
 * publish the `llm.usage` event, and once it is published settle the budget reservation to that cost. A budgeted stream that
 * ended without its final usage (cut short after its first byte) costs its worst case at the target
 * that served it, knowing the input its provider counted early (priced as counted, the bound's input
 * only beyond it): never $0, and never just that early count (Anthropic's says one output token).
 * A provider that bills more than the worst case (the bound in core/budgets/estimate.ts failed) is
 * settled to what it billed and logged. An attempt that failed after its provider answered 2xx (then
 * fell back, or failed the request) was billed too, and adds its cost: from the usage the provider
 * reported for it, else its worst case (billedCostUsd).
 */
export async function finishAccounting(ctx: RequestContext): Promise<void> {
  const { deps, outcome: o, spend } = ctx;
  if (!ctx.key || !o.model) return;
  // Partial usage (a stream cut short) prices an unbudgeted request better than $0, but a budgeted one
  // costs its worst case at the serving target, the only figure known to cover the bill.
  const usageReported = o.promptTokens !== undefined && !o.usagePartial;
  const tokens = {
    input: wholeTokens(o.promptTokens),
    output: wholeTokens(o.completionTokens),
    cached: wholeTokens(o.cachedTokens),
    reasoning: wholeTokens(o.reasoningTokens),
    cacheWrite: wholeTokens(o.cacheWriteTokens),
    cacheWrite1h: wholeTokens(o.cacheWrite1hTokens),
    audio: wholeTokens(o.audioTokens),
  };
  const served = wasServed(o);
  const price = served ? servingPrice(ctx) : undefined;
  let cost = 0;
  if (served && price) {
    cost =
      o.endpoint === "/v1/embeddings"
        ? embeddingCostUsd(price, tokens.input)
        : costUsd(price, tokens, o.serviceTier);
    // A budgeted request without its bill: the worst case at the target that served it, which its
    // reservation covers (the reservation is the costliest target's, for whichever would serve). The
    // input the provider counted early is priced as counted, by kind, and replaces the bound's input
    // where more; the output stays at its bound: Anthropic's early output count (1) is no bill.
    if (!usageReported && reserved(spend))
      cost = Math.max(
        cost,
        worstCaseAtUsd(
          spend,
          o.provider!,
          o.providerModel ?? "",
          o.promptTokens === undefined ? undefined : tokens,
          o.serviceTier,
        ) ?? spend.reservationUsd,
      );
    // No count at all (an OpenAI stream cut before its final usage chunk, an answer that carried no
    // usage): the provider billed the prompt and what it produced, so the request's worst case at the
    // serving target stands in for it.
    else if (!usageReported && o.promptTokens === undefined && spend)
      cost = worstCaseAtUsd(spend, o.provider!, o.providerModel ?? "", undefined, o.serviceTier) ?? cost;
  }
  const billedFailures = priceBilledFailures(ctx);
  // To the nano-dollar the counters and rollups add (money.ts): the event says 0.005969, not
  // 0.0059689999999999995.
  cost = usdOf(nanos(cost + billedFailures.usd));
  o.costUsd = cost;
  // "unpriced" only for a served model without a price; a request nothing served cost $0 at the prices
  // its targets had (or at the table's, when it never got as far as a target).
  const planned = served ? undefined : spend?.prices.values().next().value;
  const versioned = price ?? billedFailures.price ?? planned;
  o.priceVersion = versioned ? priceVersionOf(versioned) : served ? "unpriced" : PRICE_VERSION;

  const tasks: Array<Promise<unknown>> = [];
  // What the reservations settle to: settled here, and named in the usage event for the aggregator.
  let settlements: Array<{ id: string; usd: number }> | undefined;
  if (reserved(spend) && deps.budgets) {
    // Settled to the actual cost even above the reservation: the budget must learn what was really
    // spent, or every later request would be admitted against a spend it understates. The reservation
    // covers one call; attempts billed before a later call were reserved on top (coverBilledAttempt),
    // and those top-ups settle at exactly their amounts. Only the served call exceeding the reservation
    // means the bound failed.
    if (cost - billedFailures.usd > spend.reservationUsd) {
      deps.log.warn("actual cost exceeded its reservation", {
        requestId: ctx.requestId,
        provider: o.provider,
        providerModel: o.providerModel,
        reservedUsd: spend.reservationUsd,
        costUsd: cost,
      });
    }
    settlements = settlementsOf(ctx, spend, cost);
  }
  if (spend && spend.tokenBuckets.length > 0 && deps.rateLimits) {
    // The minute holds every call a provider worked on, as the budget charges them: the served call
    // (its count; without one its worst case, or what it counted so far where that is more: a stream
    // cut short) and each failed call its provider billed (billedAttemptTokens). A request no provider
    // served or billed (refused by the gateway, every call failed unanswered) used no tokens.
    const servedTokens = !served
      ? 0
      : usageReported
        ? tokens.input + tokens.output
        : Math.max(spend.tokenCharge, tokens.input + tokens.output);
    const billedTokens = o.attempts
      .filter((a) => a.outcome !== "ok" && a.answered)
      .reduce((n, a) => n + billedAttemptTokens(a, spend.tokenCharge), 0);
    const actual = servedTokens + billedTokens;
    for (const name of spend.tokenBuckets)
      tasks.push(deps.rateLimits.adjust(name, actual - spend.tokenCharge, spend.windowStart));
  }
  // The event first, then the settlements: a process that dies between the two leaves an event whose
  // settlements the cost aggregator makes, and one that dies before the event leaves the reservations
  // open, which the next start (portable mode) or the reservation sweep (AWS) charges. Settled first,
  // a death before the event would leave the actual cost on the counters and in no report. An event
  // that could not be published leaves them open in the same way (its line in the log says so).
  const published = deps.events
    ? publishUsage(ctx, {
        ...usageDetailFor(ctx, tokens, usageReported),
        ...(settlements ? { settlements } : {}),
      })
    : Promise.resolve(true);
  const budgets = deps.budgets;
  if (settlements && budgets) {
    const owed = settlements;
    const settling = published.then((ok) =>
      ok ? Promise.all(owed.map((s) => budgets.settle(s.id, s.usd))) : undefined,
    );
    // A refusal meanwhile waits for it (settling.ts): the caller's next request may come before it.
    trackSettlement(budgets, settling);
    tasks.push(settling);
  } else tasks.push(published);
  const results = await Promise.allSettled(tasks);
  for (const r of results) {
    if (r.status === "rejected") {
      deps.log.error("accounting step failed", {
        requestId: ctx.requestId,
        error: r.reason instanceof Error ? r.reason.message : "unknown",
      });
    }
  }
}

/**
 * What the request's reservations settle to: its own to the cost less the top-ups (never below 0), each
 * top-up for a billed attempt to exactly its amount.
 */
function settlementsOf(
  ctx: RequestContext,
  spend: SpendState,
  cost: number,
): Array<{ id: string; usd: number }> {
  const covered = spend.covers.reduce((sum, c) => sum + c.usd, 0);
  return [{ id: ctx.requestId, usd: Math.max(0, usdOf(nanos(cost - covered))) }, ...spend.covers];
}

/**
 * Prices each attempt its provider billed though it failed (billedCostUsd: from its reported usage, or
 * its worst case), and records it there.
 */
function priceBilledFailures(ctx: RequestContext): { usd: number; price: Price | undefined } {
  const spend = ctx.spend;
  let usd = 0;
  let price: Price | undefined;
  if (!spend) return { usd, price };
  for (const a of ctx.outcome.attempts) {
    const billed = billedCostUsd(spend, a);
    if (billed === undefined) continue;
    const cost = usdOf(nanos(billed));
    a.costUsd = cost;
    usd += cost;
    price ??= spend.prices.get(`${a.provider}/${a.model}`);
  }
  return { usd, price };
}

function servingPrice(ctx: RequestContext) {
  const key = `${ctx.outcome.provider}/${ctx.outcome.providerModel}`;
  const known = ctx.spend?.prices.get(key);
  if (known) return known;
  const provider = ctx.snapshot?.providers.get(ctx.outcome.provider ?? "");
  return provider ? priceFor(provider.kind, ctx.outcome.providerModel ?? "", provider.prices) : undefined;
}

/**
 * Publishes the request's usage event; false when it could not be. A publish that fails after its
 * retries is logged with the whole event, so it can be replayed.
 */
async function publishUsage(ctx: RequestContext, detail: UsageDetail): Promise<boolean> {
  try {
    await ctx.deps.events!.publish([
      {
        id: ctx.requestId,
        source: "llm-gateway",
        detailType: USAGE_DETAIL_TYPE,
        detail: { ...detail },
        time: detail.time,
      },
    ]);
  } catch (err) {
    ctx.deps.log.error("usage event not published", {
      requestId: ctx.requestId,
      failedIds: err instanceof PublishError ? err.failedIds.join(",") : ctx.requestId,
      event: JSON.stringify(detail),
    });
    return false;
  }
  return true;
}

/**
 * The tokens of a failed call its provider billed: what it reported for it, else its worst case (the
 * request's token charge, or the input it had counted before it broke where that is more), at the part
 * of it that call was billed (`share`).
 */
function billedAttemptTokens(a: AttemptRecord, charge: number): number {
  if (a.usage) return wholeTokens(a.usage.prompt_tokens) + wholeTokens(a.usage.completion_tokens);
  return Math.ceil(Math.max(charge, a.countedInput?.input ?? 0) * (a.share ?? 1));
}
