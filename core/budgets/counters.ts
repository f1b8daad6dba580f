import type { BudgetConfig } from "../config/types.ts";
import { periodKey } from "./periods.ts";
import type { CounterRef } from "./port.ts";

/**
 * Stamps each budget with `since`, the time it was added: kept from the entry's previous budget of the
 * same period, `now` for a period it had none for. A caller's own `since` counts for nothing (the
 * previous entry's is kept, or `now` given); a budget stored before stamps existed stays without one.
 */
export function stampBudgets(
  next: readonly BudgetConfig[] | undefined,
  previous: readonly BudgetConfig[] | undefined,
  now: string,
): BudgetConfig[] | undefined {
  if (!next) return undefined;
  return next.map(({ since: _given, ...budget }) => {
    const before = previous?.find((b) => b.period === budget.period);
    if (!before) return { ...budget, since: now };
    return before.since === undefined ? budget : { ...budget, since: before.since };
  });
}

/**
 * The counter a budget spends from at `at`: its period's, and, when the budget was added within that
 * period, that addition's own. A budget removed and added again then starts a counter of its own,
 * which its first reservation seeds with the period's whole spend, what was spent while it was gone
 * included; the old counter never saw that spend.
 */
export function counterFor(
  scope: CounterRef["scope"],
  id: string,
  budget: Pick<BudgetConfig, "period" | "since">,
  at: number,
): CounterRef {
  const key = periodKey(budget.period, at);
  const since = budget.since;
  // `since` is UTC ISO 8601 (the schema takes no offset), so its period is its prefix; periodKey on it
  // would thrash that function's one-day memo on the request path.
  const epoch = since !== undefined && since.slice(0, key.length) === key ? since : undefined;
  return { scope, id, period: budget.period, periodKey: key, ...(epoch ? { epoch } : {}) };
}

/**
 * What a key's budget counters, spend periods, threshold alerts and rate-limit buckets go by: its org
 * and its id. A key's id is unique only among the keys there are: a deleted key's id may be given to a
 * key of another org, which must not inherit what the old key spent (nor its alerts, nor its minute).
 */
export const keyCounterId = (org: string, keyId: string): string => `${org}/${keyId}`;

/** Where stores keep a counter's rows or items: its period, and its epoch when it has one. */
export const counterStorageKey = (c: Pick<CounterRef, "periodKey" | "epoch">): string =>
  c.epoch ? `${c.periodKey}@${c.epoch}` : c.periodKey;
