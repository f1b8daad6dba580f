import { firstIssue } from "../config/parse.ts";
import type { BudgetConfig } from "../config/types.ts";
import type { EventPublisher } from "../events/port.ts";
import {
  THRESHOLD_DETAIL_TYPE,
  type ThresholdDetail,
  type UsageDetail,
  usageDetail,
} from "../events/usage.ts";
import { keyCounterId } from "./counters.ts";
import { nanos } from "./money.ts";
import { periodKey } from "./periods.ts";
import type { BudgetStore } from "./port.ts";
import type { SpendStore } from "./spend-port.ts";

/** Alert levels, in percent of a budget's limit. */
export const THRESHOLDS = [50, 80, 100] as const;

export interface AggregatorDeps {
  spend: SpendStore;
  events: EventPublisher;
  /**
   * Where present (both hosts pass it), the usage event's budget settlements are made again here:
   * idempotent, and the backstop for a router whose own settle failed (usage.ts `settlements`).
   */
  budgets?: BudgetStore | undefined;
  /** The budgets that apply to an org and to a key, as the registry and key store hold them now. */
  orgBudgets(org: string): Promise<BudgetConfig[]>;
  /** The budgets of the key `keyId` of `org`; none when that id is now a key of another org. */
  keyBudgets(org: string, keyId: string): Promise<BudgetConfig[]>;
}

export interface AggregateResult {
  counted: boolean;
  thresholds: ThresholdDetail[];
}

/**
 * The cost aggregator, for one `llm.usage` event: adds it to the rollups once per request id (a
 * redelivered event changes nothing), then emits `budget.threshold` for every 50/80/100 % line the
 * org's or key's period spend has crossed. A budget also counts as used up (100 %) once it refuses a
 * request: the hard stop keeps spend below the limit by up to one request's worst case, so spend alone
 * would rarely reach 100 %. Each threshold is claimed in the store before it is published, so
 * concurrent aggregators emit it exactly once per period and limit.
 *
 * A redelivered event is not counted again, but its thresholds are checked again: the delivery before
 * may have counted it and then failed to publish an alert (whose claim it gave back), and the
 * transport redelivers precisely so that nothing is lost. Claims keep the check from firing twice.
 */
export async function aggregateUsage(detail: unknown, deps: AggregatorDeps): Promise<AggregateResult> {
  const usage = parseUsage(detail);
  const counted = await deps.spend.record(usage);
  await settle([usage], [counted], deps);
  // A refusal costs nothing but may follow a budget lowered below the spend: its lines are checked too.
  const thresholds = usage.costUsd > 0 || usage.budgetRefused ? await emitThresholds(usage, deps) : [];
  if (usage.budgetRefused && !usage.budgetRefused.pastLimit)
    thresholds.push(...(await emitExhausted(usage, usage.budgetRefused, deps)));
  return { counted, thresholds };
}

/**
 * Many events at once (the local bus batches them): one store write where the store can, then the
 * threshold check once per org and key with non-zero spend in the batch (with its latest event),
 * redelivered events included as in `aggregateUsage`. Same outcome as one `aggregateUsage` per event,
 * for a fraction of the writes.
 */
export async function aggregateUsageBatch(
  details: unknown[],
  deps: AggregatorDeps,
): Promise<ThresholdDetail[]> {
  const usages = details.map(parseUsage);
  const counted = deps.spend.recordMany
    ? await deps.spend.recordMany(usages)
    : await Promise.all(usages.map((u) => deps.spend.record(u)));
  await settle(usages, counted, deps);
  const latest = new Map<string, UsageDetail>();
  /**
   * What each group's events cost together, and the batch's running cost after its latest one: what
   * they may have crossed an admitted line by, and where the spend stood then (linesOf).
   */
  const costs = new Map<string, number>();
  const upTo = new Map<string, number>();
  let running = 0;
  const refusals = new Map<string, UsageDetail>();
  usages.forEach((u) => {
    // Per day too: a batch spanning midnight checks the earlier day's (and month's) lines as well.
    // And per set of limits admitted under: each is judged (linesOf), not only the latest event's.
    if (u.costUsd > 0 || u.budgetRefused) {
      const group = `${u.org}\u0000${u.keyId}\u0000${u.time.slice(0, 10)}\u0000${JSON.stringify(u.budgetLimits ?? [])}`;
      running += u.costUsd;
      latest.set(group, u);
      costs.set(group, (costs.get(group) ?? 0) + u.costUsd);
      upTo.set(group, running);
    }
    const r = u.budgetRefused;
    // A request too large for the whole budget does not use the budget up.
    if (r && !r.pastLimit) refusals.set([r.scope, r.id, r.periodKey].join("\u0000"), u);
  });
  const emitted: ThresholdDetail[] = [];
  for (const [group, usage] of latest) {
    const after = running - (upTo.get(group) ?? running);
    emitted.push(...(await emitThresholds(usage, deps, { added: costs.get(group)!, after })));
  }
  for (const usage of refusals.values())
    emitted.push(...(await emitExhausted(usage, usage.budgetRefused!, deps)));
  return emitted;
}

/**
 * The events' budget settlements, made again (a settled reservation is left as it is), after counting:
 * the event counted for a request decides what its reservations settle to. An event counted already
 * (a redelivery, or a second event for the request: the AWS sweep's `interrupted` one racing the
 * router's late own) settles to what the counted one said, where the store remembers it, and what only
 * it names to $0, so that whichever wins, counter and report hold the same figure. A crash between counting and settling
 * leaves it to the redelivery, which settles then.
 */
async function settle(usages: UsageDetail[], counted: boolean[], deps: AggregatorDeps): Promise<void> {
  const budgets = deps.budgets;
  if (!budgets) return;
  await Promise.all(
    usages.map(async (u, i) => {
      const winner = counted[i] ? undefined : await deps.spend.settlementsOf?.(u.requestId);
      // A reservation only this event names (a top-up whose reserve threw after it was written, which
      // the counted event never knew of) still settles, but to $0: the counted event's cost, which the
      // report holds, priced none of it.
      const named = new Set(winner?.map((s) => s.id));
      const unknown = winner ? (u.settlements ?? []).filter((s) => !named.has(s.id)) : [];
      const settlements = winner
        ? [...winner, ...unknown.map((s) => ({ id: s.id, usd: 0 }))]
        : (u.settlements ?? []);
      await Promise.all(settlements.map((s) => budgets.settle(s.id, s.usd)));
    }),
  );
}

function parseUsage(detail: unknown): UsageDetail {
  const parsed = usageDetail.safeParse(detail);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw new Error(`Invalid llm.usage detail at '${path}': ${message}`);
  }
  return parsed.data;
}

type Scope = "org" | "key";

/** The budgets of the usage's org or key, as they are now. */
const budgetsOf = (scope: Scope, usage: UsageDetail, deps: AggregatorDeps) =>
  scope === "org" ? deps.orgBudgets(usage.org) : deps.keyBudgets(usage.org, usage.keyId);

async function emitThresholds(
  usage: UsageDetail,
  deps: AggregatorDeps,
  /**
   * What the events judged here added to the spend (a batch's group: all of theirs), and what the batch
   * spent after them (counted already, but no part of the spend they crossed a line with).
   */
  batch = { added: usage.costUsd, after: 0 },
): Promise<ThresholdDetail[]> {
  const at = Date.parse(usage.time);
  const emitted: ThresholdDetail[] = [];
  for (const [scope, id] of [
    ["org", usage.org],
    ["key", keyCounterId(usage.org, usage.keyId)],
  ] as const) {
    for (const current of await budgetsOf(scope, usage, deps)) {
      const key = periodKey(current.period, at);
      const spent = await deps.spend.periodSpend(scope, id, key);
      for (const { budget, crossedHere } of linesOf(current, scope, id, usage))
        for (const threshold of THRESHOLDS) {
          // In nano-dollars: in floats, $0.056 spent of $0.07 would fall short of 80 % (0.07 × 0.8 > 0.056).
          const line = nanos(budget.limitUsd) * threshold;
          if (nanos(spent) * 100 < line) continue;
          if (crossedHere && !crossed(spent - batch.after, batch.added, line)) continue;
          const detail = await claim({ scope, id, usage, budget, key, threshold, spent }, deps);
          if (detail) emitted.push(detail);
        }
    }
  }
  return emitted;
}

/** Whether spend that stood at `spent` right after `added` of it had just crossed `line` (nano-dollars × 100). */
const crossed = (spent: number, added: number, line: number): boolean =>
  nanos(spent) * 100 >= line && nanos(spent - added) * 100 < line;

/**
 * The lines a budget's spend is judged against: its limit now, and the lower one the request was
 * admitted under (a limit raised right after the spend reached it was still crossed), that one only
 * where this spend crossed it (`crossedHere`): spend made after the raise crossed no line of the old
 * limit. A limit lowered since is judged by the new one alone.
 */
function linesOf(
  current: BudgetConfig,
  scope: Scope,
  id: string,
  usage: UsageDetail,
): Array<{ budget: BudgetConfig; crossedHere: boolean }> {
  const admitted = usage.budgetLimits?.find(
    (b) => b.scope === scope && b.id === id && b.period === current.period,
  );
  const now = { budget: current, crossedHere: false };
  return admitted && admitted.limitUsd < current.limitUsd
    ? [{ budget: { ...current, limitUsd: admitted.limitUsd }, crossedHere: true }, now]
    : [now];
}

/**
 * A refusal: the refusing budget is used up for the refusal's period, at the limit it refused at, so
 * it is past every line: each one not fired yet fires now, in order (50 and 80 before 100, never after
 * it). A budget changed since (raised while the event was in flight) is another line, judged by its own
 * spend; one removed since fires nothing.
 */
async function emitExhausted(
  usage: UsageDetail,
  refused: NonNullable<UsageDetail["budgetRefused"]>,
  deps: AggregatorDeps,
): Promise<ThresholdDetail[]> {
  const { scope, id, period, periodKey: key } = refused;
  const current = (await budgetsOf(scope, usage, deps)).find((b) => b.period === period);
  if (!current) return [];
  const budget = { ...current, limitUsd: refused.limitUsd ?? current.limitUsd };
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
async function claim(c: Crossing, deps: AggregatorDeps): Promise<ThresholdDetail | undefined> {
  const { scope, id, key, threshold, budget } = c;
  const claimKey = `${scope}#${id}#${key}#${threshold}#${budget.limitUsd}`;
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
    limitUsd: budget.limitUsd,
    spentUsd: c.spent,
    time: new Date().toISOString(),
  };
  try {
    await deps.events.publish([
      {
        id: `threshold-${scope}-${id}-${key}-${threshold}-${budget.limitUsd}`,
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
