import type { GatewayEvent } from "../events/port.ts";
import { USAGE_DETAIL_TYPE, type UsageDetail } from "../events/usage.ts";
import { nanos, usdOf } from "./money.ts";
import type { UnsettledReservation } from "./port.ts";

/**
 * The `llm.usage` events of requests a stopped gateway never finished, from the reservations they left
 * unsettled. Such a request may have reached its provider, which bills a call whether or not anyone
 * reads the answer; nothing says how much, so it costs what it reserved, the worst case that the
 * counters already hold, as a budgeted stream cut short does (accounting.ts). Charged this way, the
 * spend report, the thresholds and the counters agree, and the event's settlements release the
 * reservations (a reservation never settled would otherwise stand on its counter for the rest of the
 * period, counted by no report).
 *
 * One event per request, its top-ups (`<request id>.billed-N`) included; a reservation of the request
 * settled already (marked `settled`) adds what it settled to, and settles nothing. Its id is the request id, the
 * id the request's own usage event has: a request whose event was written before the stop publishes
 * nothing new (the local bus keeps one event per id), and that event settles it when delivered.
 */
export function interruptedUsage(unsettled: UnsettledReservation[], region: string): GatewayEvent[] {
  const byRequest = new Map<string, UnsettledReservation[]>();
  for (const r of unsettled) {
    const rows = byRequest.get(r.reservedFor.requestId) ?? [];
    rows.push(r);
    byRequest.set(r.reservedFor.requestId, rows);
  }
  return [...byRequest.values()].map((rows) => {
    const f = rows[0]!.reservedFor;
    const time = new Date(f.startedAt).toISOString();
    const detail: UsageDetail = {
      requestId: f.requestId,
      org: f.org,
      keyId: f.keyId,
      alias: f.alias,
      endpoint: f.endpoint,
      provider: null,
      providerModel: null,
      region,
      tokens: { input: 0, output: 0, cached: 0, reasoning: 0 },
      usageReported: false,
      // Summed in nano-dollars, as counters add them.
      costUsd: usdOf(rows.reduce((n, r) => n + nanos(r.amountUsd), 0)),
      priceVersion: f.priceVersion,
      latencyMs: 0,
      ttftMs: null,
      // What the caller met: the gateway failed mid-request.
      status: 500,
      stream: f.stream,
      interrupted: true,
      attempts: [],
      time,
      settlements: rows.filter((r) => !r.settled).map((r) => ({ id: r.id, usd: r.amountUsd })),
    };
    return {
      id: f.requestId,
      source: "llm-gateway",
      detailType: USAGE_DETAIL_TYPE,
      detail: { ...detail },
      time,
    };
  });
}

/** A request charged as interrupted, as the audit trail and `/metrics` need it. */
export interface InterruptedRequest {
  requestId: string;
  org: string;
  keyId: string;
  endpoint: "chat" | "embeddings";
  alias: string;
  /** When the request started (ISO 8601). */
  time: string;
  costUsd: number;
}

/** The requests of interruptedUsage's events. */
export function interruptedRequests(events: GatewayEvent[]): InterruptedRequest[] {
  return events.map((e) => ({
    requestId: e.id,
    org: String(e.detail.org),
    keyId: String(e.detail.keyId),
    endpoint: e.detail.endpoint === "embeddings" ? "embeddings" : "chat",
    alias: String(e.detail.alias),
    time: String(e.detail.time),
    costUsd: Number(e.detail.costUsd),
  }));
}
