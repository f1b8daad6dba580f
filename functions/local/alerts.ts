import { request } from "undici";
import type { EventEnvelope, Subscription } from "../../core/events/port.ts";
import { THRESHOLD_DETAIL_TYPE } from "../../core/events/usage.ts";
import type { Log } from "../../core/log.ts";

const THRESHOLDS = { source: ["llm-gateway"], "detail-type": [THRESHOLD_DETAIL_TYPE] };

/**
 * Portable mode's alert targets, the counterpart of the events stack's SNS rule: every `budget.threshold`
 * event is logged and, when `server.alerts.webhookUrl` is set, POSTed there as the EventBridge envelope.
 * Two subscriptions, so each has its own delivery: a webhook that fails is retried by the local bus
 * until it answers 2xx, and the log line is still written once.
 */
export function alertSubscriptions(log: Log, webhookUrl: string | undefined): Subscription[] {
  const logged: Subscription = {
    name: "budget-alert-log",
    pattern: THRESHOLDS,
    async handle(envelope: EventEnvelope) {
      const d = envelope.detail;
      log.warn("budget threshold crossed", {
        scope: String(d.scope),
        id: String(d.id),
        period: `${String(d.period)} ${String(d.periodKey)}`,
        threshold: Number(d.threshold),
        spentUsd: Number(d.spentUsd),
        limitUsd: Number(d.limitUsd),
      });
    },
  };
  if (!webhookUrl) return [logged];
  // Named as the one subscription was before the log had its own: a database keeps its deliveries.
  const posted: Subscription = {
    name: "budget-alerts",
    pattern: THRESHOLDS,
    async handle(envelope: EventEnvelope) {
      const res = await request(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(envelope),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw new Error(`alert webhook answered HTTP ${res.statusCode}`);
    },
  };
  return [logged, posted];
}
