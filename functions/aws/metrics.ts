import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { costByBiller, usdOf } from "../../core/budgets/money.ts";
import type { RequestOutcome } from "../../core/gateway/types.ts";

/**
 * One EMF record per request, written when its outcome is known (for streams: after the last byte).
 * Dimensions stay low-cardinality (endpoint, provider, status class): per-org and per-model cost is the
 * cost aggregator's job, not CloudWatch's.
 *
 * The metrics go into `metrics` itself and are flushed at once; publishing clears its metrics and
 * dimensions again. That is safe because a Lambda instance serves one invocation at a time. (Powertools'
 * `singleMetric()` would not do: it flushes on every `addMetric`, one record per metric.)
 *
 * An attempt that failed after its provider answered was billed by that provider: its cost goes in a
 * record of its own under that provider, and the request's record carries the rest. Failed and skipped
 * attempts are counted in records of their own too, by provider and outcome.
 */
export function publishOutcome(metrics: Metrics, o: RequestOutcome): void {
  metrics.addDimension("endpoint", o.endpoint);
  metrics.addDimension("provider", o.provider ?? "none");
  metrics.addDimension("status", `${Math.floor(o.status / 100)}xx`);
  metrics.addMetric("requests", MetricUnit.Count, 1);
  // Wall-clock durations can step back (an NTP correction): never below 0.
  metrics.addMetric("latency", MetricUnit.Milliseconds, Math.max(0, o.latencyMs));
  if (o.ttftMs !== undefined)
    metrics.addMetric("timeToFirstToken", MetricUnit.Milliseconds, Math.max(0, o.ttftMs));
  if (o.promptTokens !== undefined) metrics.addMetric("promptTokens", MetricUnit.Count, o.promptTokens);
  if (o.completionTokens !== undefined)
    metrics.addMetric("completionTokens", MetricUnit.Count, o.completionTokens);
  const more: Array<[string, number | undefined]> = [
    ["cachedTokens", o.cachedTokens],
    ["cacheWriteTokens", o.cacheWriteTokens],
    ["reasoningTokens", o.reasoningTokens],
    ["audioTokens", o.audioTokens],
  ];
  for (const [name, n] of more) if (n) metrics.addMetric(name, MetricUnit.Count, n);
  const { billed, servedNanos } = costByBiller(o.costUsd ?? 0, o.attempts);
  if (servedNanos > 0) metrics.addMetric("costUsd", MetricUnit.NoUnit, usdOf(servedNanos));
  metrics.publishStoredMetrics();
  for (const b of billed) {
    metrics.addDimension("endpoint", o.endpoint);
    metrics.addDimension("provider", b.provider);
    metrics.addDimension("status", `${Math.floor(o.status / 100)}xx`);
    metrics.addMetric("costUsd", MetricUnit.NoUnit, usdOf(b.nanos));
    metrics.publishStoredMetrics();
  }
  // Failed and skipped upstream attempts, under their own provider (the fallback and skip rates): a
  // request served at its first try, most of them, adds no record.
  const missed = new Map<string, { provider: string; outcome: string; n: number }>();
  for (const a of o.attempts) {
    if (a.outcome === "ok") continue;
    const k = `${a.provider}\u0000${a.outcome}`;
    const seen = missed.get(k);
    if (seen) seen.n++;
    else missed.set(k, { provider: a.provider, outcome: a.outcome, n: 1 });
  }
  for (const m of missed.values()) {
    metrics.addDimension("endpoint", o.endpoint);
    metrics.addDimension("provider", m.provider);
    metrics.addDimension("outcome", m.outcome);
    metrics.addMetric("upstreamAttempts", MetricUnit.Count, m.n);
    metrics.publishStoredMetrics();
  }
}
