import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { RequestOutcome } from "../../core/gateway/types.ts";

/**
 * One EMF record per request, written when its outcome is known (for streams: after the last byte).
 * Dimensions stay low-cardinality (endpoint, provider, status class): per-org and per-model cost is the
 * cost aggregator's job, not CloudWatch's.
 *
 * The metrics go into `metrics` itself and are flushed at once; publishing clears its metrics and
 * dimensions again. That is safe because a Lambda instance serves one invocation at a time. (Powertools'
 * `singleMetric()` would not do: it flushes on every `addMetric`, one record per metric.)
 */
export function publishOutcome(metrics: Metrics, o: RequestOutcome): void {
  metrics.addDimension("endpoint", o.endpoint);
  metrics.addDimension("provider", o.provider ?? "none");
  metrics.addDimension("status", `${Math.floor(o.status / 100)}xx`);
  metrics.addMetric("requests", MetricUnit.Count, 1);
  metrics.addMetric("latency", MetricUnit.Milliseconds, o.latencyMs);
  if (o.ttftMs !== undefined) metrics.addMetric("timeToFirstToken", MetricUnit.Milliseconds, o.ttftMs);
  if (o.promptTokens !== undefined) metrics.addMetric("promptTokens", MetricUnit.Count, o.promptTokens);
  if (o.completionTokens !== undefined)
    metrics.addMetric("completionTokens", MetricUnit.Count, o.completionTokens);
  if (o.costUsd) metrics.addMetric("costUsd", MetricUnit.Count, o.costUsd);
  metrics.publishStoredMetrics();
}
