import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { RequestOutcome } from "../../core/gateway/types.ts";

/**
 * One EMF record per request, written when its outcome is known (for streams: after the last byte).
 * Dimensions stay low-cardinality (endpoint, provider, status class): per-org and per-model cost is the
 * cost aggregator's job, not CloudWatch's.
 */
export function publishOutcome(metrics: Metrics, o: RequestOutcome): void {
  const single = metrics.singleMetric();
  single.addDimension("endpoint", o.endpoint);
  single.addDimension("provider", o.provider ?? "none");
  single.addDimension("status", `${Math.floor(o.status / 100)}xx`);
  single.addMetric("requests", MetricUnit.Count, 1);
  single.addMetric("latency", MetricUnit.Milliseconds, o.latencyMs);
  if (o.ttftMs !== undefined) single.addMetric("timeToFirstToken", MetricUnit.Milliseconds, o.ttftMs);
  if (o.promptTokens !== undefined) single.addMetric("promptTokens", MetricUnit.Count, o.promptTokens);
  if (o.completionTokens !== undefined)
    single.addMetric("completionTokens", MetricUnit.Count, o.completionTokens);
  if (o.costUsd) single.addMetric("costUsd", MetricUnit.Count, o.costUsd);
  single.publishStoredMetrics();
}
