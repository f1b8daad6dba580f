import type { UsageDetail } from "../events/usage.ts";
import { keyCounterId } from "./counters.ts";
import { costByBiller, nanos } from "./money.ts";

/** One rollup row's increments: an org, key, provider and model on a UTC day. */
export interface RollupSum {
  day: string;
  org: string;
  keyId: string;
  provider: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Integer nano-dollars (money.ts): sums of many small costs neither drift nor round to 0. */
  costNanos: number;
}

type Where = "day" | "org" | "keyId" | "provider" | "model";

/** One budget period's increment: an org's or key's UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`). */
export interface PeriodSum {
  scope: "org" | "key";
  id: string;
  periodKey: string;
  costNanos: number;
}

/**
 * What a set of usage events adds to the rollups and period totals, one entry per distinct row, so a
 * store writes each row once per batch instead of once per event. A request that reached no provider has
 * neither provider nor provider model: it rolls up under provider `none` and the alias asked for (one
 * whose every call failed names the last target it tried). An
 * attempt that failed after its provider answered was billed by that provider: its cost rolls up under
 * its own provider and model (no request, no tokens), and the rest of the request's cost under the
 * target that served it.
 */
export function sumUsage(usages: readonly UsageDetail[]): { rollups: RollupSum[]; periods: PeriodSum[] } {
  const rollups = new Map<string, RollupSum>();
  const periods = new Map<string, PeriodSum>();
  const add = (u: UsageDetail, provider: string, model: string, counts: Omit<RollupSum, Where>) => {
    const key = [u.time.slice(0, 10), u.org, u.keyId, provider, model].join("\u0000");
    const sum = rollups.get(key) ?? {
      day: u.time.slice(0, 10),
      org: u.org,
      keyId: u.keyId,
      provider,
      model,
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      costNanos: 0,
    };
    sum.requests += counts.requests;
    sum.inputTokens += counts.inputTokens;
    sum.outputTokens += counts.outputTokens;
    sum.costNanos += counts.costNanos;
    rollups.set(key, sum);
  };
  for (const u of usages) {
    const costNanos = nanos(u.costUsd);
    const day = u.time.slice(0, 10);
    const { billed, servedNanos } = costByBiller(u.costUsd, u.attempts);
    for (const b of billed)
      add(u, b.provider, b.model, { requests: 0, inputTokens: 0, outputTokens: 0, costNanos: b.nanos });
    add(u, u.provider ?? "none", u.providerModel ?? u.alias, {
      requests: 1,
      inputTokens: u.tokens.input,
      outputTokens: u.tokens.output,
      costNanos: servedNanos,
    });
    for (const [scope, id] of [
      ["org", u.org],
      ["key", keyCounterId(u.org, u.keyId)],
    ] as const) {
      for (const periodKey of [day, u.time.slice(0, 7)]) {
        const k = [scope, id, periodKey].join("\u0000");
        const p = periods.get(k) ?? { scope, id, periodKey, costNanos: 0 };
        p.costNanos += costNanos;
        periods.set(k, p);
      }
    }
  }
  return { rollups: [...rollups.values()], periods: [...periods.values()] };
}
