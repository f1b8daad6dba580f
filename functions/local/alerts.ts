import { request } from "undici";
import type { EventEnvelope, Subscription } from "../../core/events/port.ts";
import { THRESHOLD_DETAIL_TYPE } from "../../core/events/usage.ts";
import type { Log } from "../../core/log.ts";

const THRESHOLDS = { source: ["llm-gateway"], "detail-type": [THRESHOLD_DETAIL_TYPE] };

/**
 * A budget's alerts arrive in order (50 before 80 before 100); a webhook that refuses one budget's
 * alert holds back only that budget's later ones, never another org's, nor the same org's budget of
 * the other period (a budget is its scope, id and period).
 */
const byBudget = (envelope: EventEnvelope): string =>
  `${String(envelope.detail.scope)}\u0000${String(envelope.detail.id)}\u0000${String(envelope.detail.period)}`;

/**
 * Redirects that keep the method and the body (RFC 9110 §15.4.8, §15.4.9): a webhook that moved (http
 * to https, say) still gets its alerts. 301, 302 and 303 let a client turn the POST into a GET without
 * its body, so they are failures that name where they point.
 */
const KEEPS_BODY = new Set([307, 308]);
const MAX_REDIRECTS = 3;
/**
 * The whole POST, redirects included, until its status arrives; the answer's body, read in the
 * background, ends under the same bound. undici's own timeouts are per stage (headers, then each chunk
 * of the body), so a webhook that trickles a byte at a time would hold the delivery, and with it a
 * graceful stop, for days.
 */
const POST_TIMEOUT_MS = 10_000;
/** What of a webhook's answer is read (and ignored) to keep its connection; a longer one is cut. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** POSTs the envelope, following up to MAX_REDIRECTS redirects that keep the body; throws unless 2xx. */
async function post(webhookUrl: string, envelope: EventEnvelope, timeoutMs: number): Promise<void> {
  const body = JSON.stringify(envelope);
  // One bound for the whole POST, redirects included.
  const signal = AbortSignal.timeout(timeoutMs);
  let url = webhookUrl;
  for (let hops = 0; ; hops++) {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal,
    });
    // Read (and ignored) in the background: the status is the answer, and a body that never ends must
    // not hold the bus (the signal still ends it).
    res.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const location = res.headers.location;
    const next = typeof location === "string" ? new URL(location, url).href : undefined;
    if (KEEPS_BODY.has(res.statusCode) && next && hops < MAX_REDIRECTS) {
      url = next;
      continue;
    }
    const where = next && res.statusCode >= 300 && res.statusCode < 400 ? ` (to ${next})` : "";
    throw new Error(`alert webhook answered HTTP ${res.statusCode}${where}`);
  }
}

/**
 * Portable mode's alert targets, the counterpart of the events stack's SNS rule: every `budget.threshold`
 * event is logged and, when `server.alerts.webhookUrl` is set, POSTed there as the EventBridge envelope.
 * Two subscriptions, so each has its own delivery: a webhook that fails is retried by the local bus
 * until it answers 2xx, and the log line is still written once.
 */
export function alertSubscriptions(
  log: Log,
  webhookUrl: string | undefined,
  timeoutMs = POST_TIMEOUT_MS,
): Subscription[] {
  const logged: Subscription = {
    name: "budget-alert-log",
    pattern: THRESHOLDS,
    orderKey: byBudget,
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
    orderKey: byBudget,
    handle: (envelope: EventEnvelope) => post(webhookUrl, envelope, timeoutMs),
  };
  return [logged, posted];
}
