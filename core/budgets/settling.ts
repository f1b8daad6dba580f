import { limitNanos, nanos, reserveNanos } from "./money.ts";
import type { BudgetStore, CounterRef, ReservedFor, ReserveItem, ReserveResult } from "./port.ts";

/**
 * Settlements this process has begun and not yet made, per store. A request settles after its answer
 * is out (accounting runs once the outcome is final), so a caller who sends its next request the
 * moment it has the answer finds the previous reservation still on the counter at its worst case, and
 * would be refused with most of its budget unspent. A refusal therefore waits for the settlements
 * already under way here and asks once more: a refusal is then for spend, and for other requests in
 * flight, never for this process's own bookkeeping lag.
 */
const underWay = new WeakMap<BudgetStore, Set<Promise<unknown>>>();

/**
 * The longest a refusal waits for them: a settlement waits for its usage event's commit and then its
 * own (each a group commit of at most a few ms, sqlite-group-commit.ts); a store that hangs must not
 * hold a refusal that long.
 */
const SETTLE_WAIT_MS = 250;

/** Tracks `settling` until it is made (or has failed: the aggregator's redelivery settles it then). */
export function trackSettlement(store: BudgetStore, settling: Promise<unknown>): void {
  const set = underWay.get(store) ?? new Set<Promise<unknown>>();
  underWay.set(store, set);
  const tracked: Promise<unknown> = settling.then(
    () => set.delete(tracked),
    () => set.delete(tracked),
  );
  set.add(tracked);
}

/** `store.reserve`, asked again once if it refuses while settlements are under way. */
export async function reserveAfterSettlements(
  store: BudgetStore,
  requestId: string,
  items: ReserveItem[],
  reservedFor?: ReservedFor,
): Promise<ReserveResult> {
  const first = await store.reserve(requestId, items, reservedFor);
  const open = underWay.get(store);
  if (first.ok || !open || open.size === 0) return first;
  // A request whose own bound passes the whole limit fits however much is settled.
  const refusing = items.find((i) => sameCounter(i.counter, first.counter));
  if (refusing && reserveNanos(refusing.amountUsd) > limitNanos(first.limitUsd)) return first;
  await settled(open);
  return store.reserve(requestId, items, reservedFor);
}

/** Waits for the settlements under way, SETTLE_WAIT_MS at most. */
async function settled(open: Set<Promise<unknown>>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SETTLE_WAIT_MS);
  });
  await Promise.race([Promise.all(open), waited]);
  clearTimeout(timer);
}

/**
 * The refusal `reserve` would give as the counters stand, read without reserving anything (and again
 * once this process's settlements under way are made, as reserveAfterSettlements does), or undefined
 * when they leave room. Not atomic: a request it lets through may still be refused by `reserve`.
 */
export async function refusedAsItStands(
  store: BudgetStore,
  items: ReserveItem[],
): Promise<Extract<ReserveResult, { ok: false }> | undefined> {
  const check = async () => {
    const spent = await Promise.all(items.map((i) => store.spent(i.counter)));
    // One nano-dollar of slack: `spent` comes back in dollars, and past some $4M the round trip to
    // nano-dollars can land one high. `reserve` decides exactly; this only spares the minute.
    const n = items.findIndex(
      (i, k) => nanos(spent[k]!) + reserveNanos(i.amountUsd) > limitNanos(i.limitUsd) + 1,
    );
    const item = items[n];
    return (
      item && { ok: false as const, counter: item.counter, spentUsd: spent[n]!, limitUsd: item.limitUsd }
    );
  };
  const first = await check();
  const open = underWay.get(store);
  if (!first || !open || open.size === 0 || reserveNanos(items[0]!.amountUsd) > limitNanos(first.limitUsd))
    return first;
  await settled(open);
  return check();
}

const sameCounter = (a: CounterRef, b: CounterRef): boolean =>
  a.scope === b.scope && a.id === b.id && a.period === b.period && a.periodKey === b.periodKey;
