import { usdAmountText } from "../budgets/money.ts";
import { costUsd, type TokenUsage } from "../budgets/pricing.ts";
import { reserveAfterSettlements } from "../budgets/settling.ts";
import type { AttemptRecord } from "./attempts.ts";
import { tokensOfUsage } from "./outcome.ts";
import { budgetExceeded, reserved, type SpendState, targetKey } from "./spend-guard.ts";
import type { RequestContext } from "./types.ts";

/**
 * What an attempt that failed after its provider answered 2xx costs: the provider did the work and bills
 * it. Priced from the usage the provider reported for it where it did (Gemini's MALFORMED_FUNCTION_CALL
 * answer); else its usage never arrived, so it costs its worst case at that target, as a stream cut
 * short does (the answered calls' part of it, for an attempt sent as several calls). The same figure is
 * reserved on top before a next call (coverBilledAttempt) and counted after, so the two agree. Undefined
 * for an attempt that billed nothing, or at a target without a price.
 */
export function billedCostUsd(spend: SpendState, attempt: AttemptRecord): number | undefined {
  if (!attempt.answered) return undefined;
  const price = attempt.usage ? spend.prices.get(`${attempt.provider}/${attempt.model}`) : undefined;
  if (price && attempt.usage) return costUsd(price, tokensOfUsage(attempt.usage));
  const worst = worstCaseAtUsd(spend, attempt.provider, attempt.model, attempt.countedInput);
  return worst === undefined ? undefined : worst * (attempt.share ?? 1);
}

/**
 * The request's worst-case cost at one of its targets (provider id and model), with what the provider
 * counted of its input already where that passes the bound, at the tier it said serves the request
 * where it said; undefined if unpriced.
 */
export function worstCaseAtUsd(
  spend: SpendState,
  provider: string,
  model: string,
  counted?: TokenUsage,
  servedTier?: string,
): number | undefined {
  const key = `${provider}/${model}`;
  const price = spend.prices.get(key);
  const target = spend.targets.find((t) => targetKey(t) === key);
  return price && target ? spend.bounds.worstCaseUsd(target, price, counted, servedTier) : undefined;
}

/**
 * Before another upstream call of a budgeted request whose last attempt was billed though it failed.
 * The reservation covers one call, and that one is spent: the next call needs the billed cost reserved
 * on top, under its own id, or a retry could take the budget past its limit. Refused, the request stops
 * with budget_exceeded instead of calling again. Accounting settles the top-ups at exactly their amounts.
 */
export async function coverBilledAttempt(ctx: RequestContext, attempt: AttemptRecord): Promise<void> {
  const spend = ctx.spend;
  const budgets = ctx.deps.budgets;
  if (!reserved(spend) || !budgets) return;
  const usd = billedCostUsd(spend, attempt);
  if (usd === undefined) return;
  const id = `${ctx.requestId}.billed-${spend.covers.length + 1}`;
  const items = spend.items.map((item) => ({ ...item, amountUsd: usd }));
  const result = await reserveAfterSettlements(budgets, id, items, spend.reservedFor);
  if (!result.ok)
    throw budgetExceeded(
      ctx,
      result,
      `an attempt that failed after its provider answered cost up to $${usdAmountText(usd)}`,
    );
  spend.covers.push({ id, usd });
}
