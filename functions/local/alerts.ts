import { request } from "undici";
import type { EventEnvelope, Subscription } from "../../core/events/port.ts";
import { THRESHOLD_DETAIL_TYPE } from "../../core/events/usage.ts";
import type { Log } from "../../core/log.ts";

/**
 * Portable mode's alert target, the counterpart of the events stack's SNS rule: every `budget.threshold`
 * event is logged and, when `server.alerts.webhookUrl` is set, POSTed there as the EventBridge envelope.
 * A webhook that fails is retried by the local bus until it answers 2xx.
 */
export function alertSubscription(log: Log, webhookUrl: string | undefined): Subscription {
  return {
    name: "budget-alerts",
    pattern: { source: ["llm-gateway"], "detail-type": [THRESHOLD_DETAIL_TYPE] },
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
      if (!webhookUrl) return;
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
}
