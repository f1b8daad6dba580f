import type { BudgetConfig } from "../config/types.ts";
import type { EventPublisher } from "../events/port.ts";
import { THRESHOLD_DETAIL_TYPE, type ThresholdDetail, type UsageDetail } from "../events/usage.ts";
import { keyCounterId } from "./counters.ts";
import { limitNanos, nanos, usdOf } from "./money.ts";
import { periodKey } from "./periods.ts";
import type { SpendStore } from "./spend-port.ts";

/** Alert levels, in percent of a budget's limit. */
export const THRESHOLDS = [50, 80, 100] as const;

export interface ThresholdDeps {
  spend: SpendStore;
  events: EventPublisher;
  /** The budgets that apply to an org and to a key, as the registry and key store hold them now. */
  orgBudgets(org: string): Promise<BudgetConfig[]>;
  /** The budgets of the key `keyId` of `org`; none when that id is now a key of another org. */
  keyBudgets(org: string, keyId: string): Promise<BudgetConfig[]>;
}

type Scope = "org" | "key";

/** The budgets of the usage's org or key, as they are now. */
const budgetsOf = (scope: Scope, usage: UsageDetail, deps: ThresholdDeps) =>
  scope === "org" ? deps.orgBudgets(usage.org) : deps.keyBudgets(usage.org, usage.keyId);

/**
 * The events a threshold check judges: `members`, indices into the events just delivered (all of a
 * batch's, or the one), in delivery order; `counted[i]` says whether event i was counted now (a
 * redelivered one was counted before, at a point in the spend no longer known).
 */
export interface Judged {
  events: UsageDetail[];
  counted: boolean[];
  members: number[];
}

/**
 * Emits every line the spend of the usage's org and key is past (`usage`: the members' latest event,
 * whose request owns the claims). A lower limit a member was admitted under (raised or removed since) is
 * judged only where a member counted now crossed it, with the spend as it stood right after that member:
 * the spend now less what the events delivered after it added to the same counter.
 */
export async function emitThresholds(
  usage: UsageDetail,
  deps: ThresholdDeps,
  judged: Judged = { events: [usage], counted: [true], members: [0] },
): Promise<ThresholdDetail[]> {
  const at = Date.parse(usage.time);
  const emitted: ThresholdDetail[] = [];
  for (const [scope, id] of [
    ["org", usage.org],
    ["key", keyCounterId(usage.org, usage.keyId)],
  ] as const) {
    for (const [period, current] of await judgedBudgets(scope, id, usage, deps)) {
      const key = periodKey(period, at);
      const spent = await deps.spend.periodSpend(scope, id, key);
      const counter = { scope, id, period, key };
      for (const { budget, crossedHere } of linesOf(period, current, scope, id, usage))
        for (const threshold of THRESHOLDS) {
          // In nano-dollars: in floats, $0.056 spent of $0.07 would fall short of 80 % (0.07 × 0.8 > 0.056).
          const line = lineOf(budget.limitUsd, threshold);
          if (hundredfold(spent) < line) continue;
          if (crossedHere && !crossedByMember(judged, counter, spent, line)) continue;
          const detail = await claim({ scope, id, usage, budget, key, threshold, spent }, deps);
          if (detail) emitted.push(detail);
        }
    }
  }
  return emitted;
}

interface Counter {
  scope: Scope;
  id: string;
  period: BudgetConfig["period"];
  key: string;
}

/** Whether a member counted now took the counter's spend across `line` (nano-dollars × 100). */
function crossedByMember(judged: Judged, counter: Counter, spent: number, line: bigint): boolean {
  const { events, counted, members } = judged;
  let after = 0;
  let next = events.length - 1;
  for (let m = members.length - 1; m >= 0; m--) {
    const i = members[m]!;
    // What the events after member i added to this counter: no part of the spend it crossed a line with.
    for (; next > i; next--)
      if (counted[next] && counts(events[next]!, counter)) after += events[next]!.costUsd;
    next = i - 1;
    const e = events[i]!;
    if (counted[i] && crossed(spent - after, e.costUsd, line)) return true;
    after += counted[i] ? e.costUsd : 0;
  }
  return false;
}

/** Whether an event's spend went to a counter. */
const counts = (e: UsageDetail, c: Counter): boolean =>
  (c.scope === "org" ? e.org === c.id : keyCounterId(e.org, e.keyId) === c.id) &&
  periodKey(c.period, Date.parse(e.time)) === c.key;

/** Whether spend that stood at `spent` right after `added` of it had just crossed `line` (nano-dollars × 100). */
const crossed = (spent: number, added: number, line: bigint): boolean =>
  hundredfold(spent) >= line && hundredfold(spent - added) < line;

/**
 * A line and a spend in nano-dollars × 100, as bigints: a limit's nano-dollars fit a double exactly (up
 * to $9 007 199), but a hundred times them do not past $90 071, where a line would move by a nano-dollar.
 */
const lineOf = (limitUsd: number, threshold: number): bigint => BigInt(nanos(limitUsd)) * BigInt(threshold);
const hundredfold = (usd: number): bigint => BigInt(nanos(usd)) * 100n;

/**
 * The periods whose spend is judged: each budget in force now, and each the request was admitted under
 * that has been removed since (undefined: a limit removed is one raised without end).
 */
async function judgedBudgets(
  scope: Scope,
  id: string,
  usage: UsageDetail,
  deps: ThresholdDeps,
): Promise<Map<BudgetConfig["period"], BudgetConfig | undefined>> {
  const judged = new Map<BudgetConfig["period"], BudgetConfig | undefined>();
  for (const b of await budgetsOf(scope, usage, deps)) judged.set(b.period, b);
  for (const b of usage.budgetLimits ?? [])
    if (b.scope === scope && b.id === id && !judged.has(b.period)) judged.set(b.period, undefined);
  return judged;
}

/**
 * The lines a budget's spend is judged against: its limit now, and the lower one the request was
 * admitted under (a limit raised, or removed, right after the spend reached it was still crossed), that
 * one only where this spend crossed it (`crossedHere`): spend made after the raise crossed no line of
 * the old limit. A limit lowered since is judged by the new one alone.
 */
function linesOf(
  period: BudgetConfig["period"],
  current: BudgetConfig | undefined,
  scope: Scope,
  id: string,
  usage: UsageDetail,
): Array<{ budget: BudgetConfig; crossedHere: boolean }> {
  const admitted = usage.budgetLimits?.find((b) => b.scope === scope && b.id === id && b.period === period);
  const now = current ? [{ budget: current, crossedHere: false }] : [];
  return admitted && (current === undefined || admitted.limitUsd < current.limitUsd)
    ? [{ budget: { period, limitUsd: admitted.limitUsd }, crossedHere: true }, ...now]
    : now;
}

/**
 * A refusal: the refusing budget is used up for the refusal's period, at the limit it refused at, so
 * it is past every line: each one not fired yet fires now, in order (50 and 80 before 100, never after
 * it), also when the budget was changed or removed while the event was in flight (a changed one is
 * another line, judged by its own spend).
 */
export async function emitExhausted(
  usage: UsageDetail,
  refused: NonNullable<UsageDetail["budgetRefused"]>,
  deps: ThresholdDeps,
): Promise<ThresholdDetail[]> {
  const { scope, id, period, periodKey: key } = refused;
  const current = (await budgetsOf(scope, usage, deps)).find((b) => b.period === period);
  const limitUsd = refused.limitUsd ?? current?.limitUsd;
  // A refusal from before its events named the limit, of a budget removed since: no line to judge.
  if (limitUsd === undefined) return [];
  const budget = { period, limitUsd };
  const spent = await deps.spend.periodSpend(scope, id, key);
  const emitted: ThresholdDetail[] = [];
  for (const threshold of THRESHOLDS) {
    const detail = await claim({ scope, id, usage, budget, key, threshold, spent }, deps);
    if (detail) emitted.push(detail);
  }
  return emitted;
}

interface Crossing {
  scope: Scope;
  id: string;
  usage: UsageDetail;
  budget: BudgetConfig;
  key: string;
  threshold: (typeof THRESHOLDS)[number];
  spent: number;
}

/**
 * Claims a threshold and publishes it, exactly once. The claim names the limit too: a budget raised or
 * lowered mid-period is a new line to cross, whose alerts fire again at their new amounts.
 * - A publisher that delivers an id once (the local bus) publishes first, then claims: a crash between
 *   the two leaves the event published and the claim not, and the redelivered usage event publishes
 *   the same id again, which delivers nothing new. Claiming first would leave a claim whose event a
 *   crash lost, and no redelivery would ever publish it.
 * - EventBridge delivers every entry: the claim comes first, so that concurrent aggregators publish once.
 *   The claim is the usage event's (its request id owns it): a publish that fails gives it back before
 *   the error goes on to the transport, and if even that fails (the store is down too), the event's
 *   redelivery takes its own claim again and fires it. A published alert is marked so, and no
 *   redelivery fires it again; if that mark fails, a redelivery may (the same event id: consumers
 *   deduplicate). A crash between the claim and PutEvents leaves the claim its event's, unpublished,
 *   as a failed release does: the transport's redelivery of the event fires it.
 */
async function claim(c: Crossing, deps: ThresholdDeps): Promise<ThresholdDetail | undefined> {
  const { scope, id, key, threshold, budget } = c;
  // The limit as enforced (to the nano-dollar): one limit, one identity, however many digits it was
  // stored with (a limit stored before limits were rounded on their way in may have more).
  const limitUsd = usdOf(limitNanos(budget.limitUsd));
  const claimKey = `${scope}#${id}#${key}#${threshold}#${limitUsd}`;
  const owner = c.usage.requestId;
  const publishFirst = deps.events.dedupesIds === true;
  if (
    publishFirst
      ? await deps.spend.hasThreshold(claimKey)
      : !(await deps.spend.markThreshold(claimKey, owner))
  )
    return undefined;
  const detail: ThresholdDetail = {
    scope,
    id,
    org: c.usage.org,
    period: budget.period,
    periodKey: key,
    threshold,
    limitUsd,
    spentUsd: c.spent,
    time: new Date().toISOString(),
  };
  try {
    await deps.events.publish([
      {
        id: `threshold-${scope}-${id}-${key}-${threshold}-${limitUsd}`,
        source: "llm-gateway",
        detailType: THRESHOLD_DETAIL_TYPE,
        detail: { ...detail },
        time: detail.time,
      },
    ]);
  } catch (err) {
    // A release that fails too leaves the claim to this event's redelivery, which the error brings.
    if (!publishFirst) await deps.spend.releaseThreshold(claimKey, owner).catch(() => undefined);
    throw err;
  }
  // Of concurrent publishers of one id, the one whose claim lands reports it.
  if (publishFirst) return (await deps.spend.markThreshold(claimKey, owner)) ? detail : undefined;
  // Published: a mark that fails only lets a redelivery publish the same id again.
  await deps.spend.thresholdPublished(claimKey, owner).catch(() => undefined);
  return detail;
}
