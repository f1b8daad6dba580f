import { firstIssue } from "../config/parse.ts";
import type { BudgetConfig } from "../config/types.ts";
import type { EventPublisher } from "../events/port.ts";
import {
  THRESHOLD_DETAIL_TYPE,
  type ThresholdDetail,
  type UsageDetail,
  usageDetail,
} from "../events/usage.ts";
import { periodKey } from "./periods.ts";
import type { SpendStore } from "./spend-port.ts";

/** Alert levels, in percent of a budget's limit. */
export const THRESHOLDS = [50, 80, 100] as const;

export interface AggregatorDeps {
  spend: SpendStore;
  events: EventPublisher;
  /** The budgets that apply to an org and to a key, as the registry and key store hold them now. */
  orgBudgets(org: string): Promise<BudgetConfig[]>;
  keyBudgets(keyId: string): Promise<BudgetConfig[]>;
}

export interface AggregateResult {
  counted: boolean;
  thresholds: ThresholdDetail[];
}

/**
 * The cost aggregator, for one `llm.usage` event: adds it to the rollups once per request id (a
 * redelivered event changes nothing), then emits `budget.threshold` for every 50/80/100 % line the
 * org's or key's period spend has crossed. Each threshold is claimed in the store before it is
 * published, so concurrent aggregators emit it exactly once per period.
 */
export async function aggregateUsage(detail: unknown, deps: AggregatorDeps): Promise<AggregateResult> {
  const usage = parseUsage(detail);
  const counted = await deps.spend.record(usage);
  if (!counted || usage.costUsd === 0) return { counted, thresholds: [] };
  return { counted, thresholds: await emitThresholds(usage, deps) };
}

/**
 * Many events at once (the local bus batches them): one store write where the store can, then the
 * threshold check once per org and key that had new, non-zero spend (with its latest event). Same
 * outcome as one `aggregateUsage` per event, for a fraction of the writes.
 */
export async function aggregateUsageBatch(
  details: unknown[],
  deps: AggregatorDeps,
): Promise<ThresholdDetail[]> {
  const usages = details.map(parseUsage);
  const counted = deps.spend.recordMany
    ? await deps.spend.recordMany(usages)
    : await Promise.all(usages.map((u) => deps.spend.record(u)));
  const latest = new Map<string, UsageDetail>();
  usages.forEach((u, i) => {
    if (counted[i] && u.costUsd > 0) latest.set(`${u.org}\u0000${u.keyId}`, u);
  });
  const emitted: ThresholdDetail[] = [];
  for (const usage of latest.values()) emitted.push(...(await emitThresholds(usage, deps)));
  return emitted;
}

function parseUsage(detail: unknown): UsageDetail {
  const parsed = usageDetail.safeParse(detail);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw new Error(`Invalid llm.usage detail at '${path}': ${message}`);
  }
  return parsed.data;
}

async function emitThresholds(usage: UsageDetail, deps: AggregatorDeps): Promise<ThresholdDetail[]> {
  const at = Date.parse(usage.time);
  const scopes = [
    { scope: "org" as const, id: usage.org, budgets: await deps.orgBudgets(usage.org) },
    { scope: "key" as const, id: usage.keyId, budgets: await deps.keyBudgets(usage.keyId) },
  ];
  const emitted: ThresholdDetail[] = [];
  for (const { scope, id, budgets } of scopes) {
    for (const budget of budgets) {
      const key = periodKey(budget.period, at);
      const spent = await deps.spend.periodSpend(scope, id, key);
      for (const threshold of THRESHOLDS) {
        if (spent < (budget.limitUsd * threshold) / 100) continue;
        if (!(await deps.spend.markThreshold(`${scope}#${id}#${key}#${threshold}`))) continue;
        const detail: ThresholdDetail = {
          scope,
          id,
          org: usage.org,
          period: budget.period,
          periodKey: key,
          threshold,
          limitUsd: budget.limitUsd,
          spentUsd: spent,
          time: new Date().toISOString(),
        };
        await deps.events.publish([
          {
            id: `threshold-${scope}-${id}-${key}-${threshold}`,
            source: "llm-gateway",
            detailType: THRESHOLD_DETAIL_TYPE,
            detail: { ...detail },
            time: detail.time,
          },
        ]);
        emitted.push(detail);
      }
    }
  }
  return emitted;
}
