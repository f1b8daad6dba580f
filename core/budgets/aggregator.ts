import { firstIssue } from "../config/parse.ts";
import { type ThresholdDetail, type UsageDetail, usageDetail } from "../events/usage.ts";
import type { BudgetStore } from "./port.ts";
import { emitExhausted, emitThresholds, type ThresholdDeps } from "./thresholds.ts";

export interface AggregatorDeps extends ThresholdDeps {
  /**
   * Where present (both hosts pass it), the usage event's budget settlements are made again here:
   * idempotent, and the backstop for a router whose own settle failed (usage.ts `settlements`).
   */
  budgets?: BudgetStore | undefined;
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
  const judged = { events: [usage], counted: [counted], members: [0] };
  const thresholds =
    usage.costUsd > 0 || usage.budgetRefused ? await emitThresholds(usage, deps, judged) : [];
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
  // The events judged together: per org, key and day (a batch spanning midnight checks the earlier
  // day's and month's lines too), and per set of limits admitted under (each is judged: linesOf).
  const groups = new Map<string, number[]>();
  const refusals = new Map<string, UsageDetail>();
  usages.forEach((u, i) => {
    if (u.costUsd > 0 || u.budgetRefused) {
      const group = `${u.org}\u0000${u.keyId}\u0000${u.time.slice(0, 10)}\u0000${JSON.stringify(u.budgetLimits ?? [])}`;
      const members = groups.get(group);
      if (members) members.push(i);
      else groups.set(group, [i]);
    }
    const r = u.budgetRefused;
    // A request too large for the whole budget does not use the budget up. One refusal per limit
    // refused at: a limit raised between two refusals is another line, used up too.
    if (r && !r.pastLimit) refusals.set([r.scope, r.id, r.periodKey, r.limitUsd].join("\u0000"), u);
  });
  const emitted: ThresholdDetail[] = [];
  for (const members of groups.values()) {
    const usage = usages[members[members.length - 1]!]!;
    emitted.push(...(await emitThresholds(usage, deps, { events: usages, counted, members })));
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
