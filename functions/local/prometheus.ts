import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { costByBiller, nanos, usdOf } from "../../core/budgets/money.ts";
import type { RequestOutcome } from "../../core/gateway/types.ts";
import { maskModelName } from "../../core/pii/mask-names.ts";
import { type BreakerBoard, MAX_TARGETS } from "../../core/routing/breaker-board.ts";

/**
 * Portable mode's `GET /metrics` (Prometheus text format). Label sets stay bounded: org, model (once
 * served), provider and status class — never request ids, keys or anything a caller can vary without
 * limit. Lambda publishes the same facts as EMF (functions/aws/metrics.ts).
 */
export interface PrometheusMetrics {
  observe(outcome: RequestOutcome): void;
  /**
   * Spend charged at start for a request the last process never finished (interrupted.ts): no request
   * of this process observes it, so without this `llm_gateway_cost_usd_total` would never count it.
   * Under provider `none` and model `other`, as its usage event names no provider.
   */
  charged(org: string, costUsd: number): void;
  render(): Promise<string>;
  contentType: string;
}

export interface BudgetReading {
  scope: "org" | "key";
  id: string;
  period: string;
  remainingUsd: number;
}

/**
 * Seconds, from a cached answer's milliseconds to the longest call the gateway lets run (a stream's
 * 890 s total: routing/resolve.ts), so that quantiles of long generations are not capped at a minute.
 */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900];
/**
 * `provider/model` names that get a label of their own, at most: a lenient OpenAI-compatible server
 * serves any name a caller makes up, and each would be a series for ever. Aliases (config) always do.
 */
const MAX_DIRECT_MODELS = 256;

/**
 * A model name as a label: masked as the spend report shows it, and without control characters. The
 * exposition format escapes only `\\`, `"` and line feeds, so a served name holding a carriage return
 * (a lenient server serves any name) would reach scrapers raw, and some read it as a line break.
 */
const nameLabel = (name: string): string => maskModelName(name).replace(/\p{Cc}/gu, "\uFFFD");
const HEALTH = "/healthz";
const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** `budgets` is read at scrape time, so the gauge is the store's current value, not a cached guess. */
export function createPrometheusMetrics(
  breakers: BreakerBoard,
  budgets: () => Promise<BudgetReading[]> = async () => [],
): PrometheusMetrics {
  const registry = new Registry();
  const labels = ["org", "model", "provider"] as const;
  const requests = new Counter({
    name: "llm_gateway_requests_total",
    help: "Requests by org, model (alias), provider and status class",
    labelNames: [...labels, "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "llm_gateway_request_duration_seconds",
    help: "Whole request duration",
    labelNames: labels,
    buckets: SECONDS,
    registers: [registry],
  });
  const ttft = new Histogram({
    name: "llm_gateway_time_to_first_token_seconds",
    help: "Time to the first streamed chunk",
    labelNames: labels,
    buckets: SECONDS,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "llm_gateway_tokens_total",
    help: "Tokens by kind as billed: the provider's counts, or the bound billed where it counts none (Gemini embeddings); input includes cached, cache_write and audio, output includes reasoning",
    labelNames: [...labels, "kind"],
    registers: [registry],
  });
  // Spend is summed in integer nano-dollars (money.ts) and set at scrape time: a float counter adding
  // many small costs drifts (0.049322999999999964 where the spend report says 0.049323).
  const spent = new Map<string, { labels: Record<(typeof labels)[number], string>; nanos: number }>();
  const addCost = (l: Record<(typeof labels)[number], string>, n: number) => {
    if (n <= 0) return;
    const key = `${l.org}\u0000${l.model}\u0000${l.provider}`;
    const sum = spent.get(key) ?? { labels: l, nanos: 0 };
    sum.nanos += n;
    spent.set(key, sum);
  };
  new Counter({
    name: "llm_gateway_cost_usd_total",
    help: "Spend in USD, priced with the price table and its per-provider overrides, by the provider that billed it",
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of spent.values()) this.inc(s.labels, usdOf(s.nanos));
    },
  });
  const attempts = new Counter({
    name: "llm_gateway_upstream_attempts_total",
    help: "Upstream calls and skipped targets by outcome",
    labelNames: ["provider", "outcome"],
    registers: [registry],
  });
  new Gauge({
    name: "llm_gateway_budget_remaining_usd",
    help: "Budget left in the current period (all regions' spend summed), read at scrape time",
    labelNames: ["scope", "id", "period"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const b of await budgets())
        this.set({ scope: b.scope, id: b.id, period: b.period }, b.remainingUsd);
    },
  });
  new Gauge({
    name: "llm_gateway_circuit_state",
    help: "Circuit breaker per target: 0 closed, 1 half-open, 2 open (this process)",
    labelNames: ["target"],
    registers: [registry],
    collect() {
      this.reset();
      // A made-up `provider/model` name gets a breaker once it is tried; like the model label, it joins
      // the series only once it has served a request, or while its circuit is not closed.
      for (const [target, state] of breakers.states())
        if (state !== "closed" || servedTargets.has(target))
          this.set({ target: nameLabel(target) }, CIRCUIT_VALUE[state]);
    },
  });

  // The model label is what the caller asked for, which a caller can vary without limit (every unknown
  // name would become a series). A model joins the label set once a provider has served it, which
  // bounds it by the aliases and real provider models; until then its requests count as `other`.
  const served = new Set<string>();
  const servedTargets = new Set<string>();
  let direct = 0;
  const modelLabel = (o: RequestOutcome): string => {
    if (o.model === undefined) return "none";
    if (o.status >= 200 && o.status < 300 && !served.has(o.model)) {
      // An alias has no `/` (config schema); a `provider/model` name is one a caller chose.
      const isDirect = o.model.includes("/");
      if (!isDirect || direct < MAX_DIRECT_MODELS) {
        served.add(o.model);
        if (isDirect) direct++;
      }
    }
    // Masked (an address as a model name, which a lenient provider served) as the spend report is.
    return served.has(o.model) ? nameLabel(o.model) : "other";
  };

  return {
    observe(o) {
      // A health probe is not traffic: counted, it would drown the request rates of a quiet gateway.
      if (o.endpoint === HEALTH) return;
      const l = { org: o.org ?? "none", model: modelLabel(o), provider: o.provider ?? "none" };
      requests.inc({ ...l, status: `${Math.floor(o.status / 100)}xx` });
      // Durations come from the wall clock, which can step back: a negative one would lower `_sum`,
      // which Prometheus reads as a restart.
      latency.observe(l, Math.max(0, o.latencyMs) / 1000);
      if (o.ttftMs !== undefined) ttft.observe(l, Math.max(0, o.ttftMs) / 1000);
      const kinds: Array<[string, number | undefined]> = [
        ["input", o.promptTokens],
        ["output", o.completionTokens],
        ["cached", o.cachedTokens],
        ["cache_write", o.cacheWriteTokens],
        ["reasoning", o.reasoningTokens],
        ["audio", o.audioTokens],
      ];
      for (const [kind, n] of kinds) if (n) tokens.inc({ ...l, kind }, n);
      // An attempt that failed after its provider answered was billed by that provider, not by the one
      // that served the request: its cost goes under its own provider label.
      const { billed, servedNanos } = costByBiller(o.costUsd ?? 0, o.attempts);
      for (const b of billed) addCost({ ...l, provider: b.provider }, b.nanos);
      addCost(l, servedNanos);
      for (const a of o.attempts) {
        attempts.inc({ provider: a.provider, outcome: a.outcome });
        // As many as the breaker board keeps breakers for: a target past them has no circuit to show.
        if (a.outcome === "ok" && servedTargets.size < MAX_TARGETS)
          servedTargets.add(`${a.provider}/${a.model}`);
      }
    },
    charged(org, costUsd) {
      addCost({ org, model: "other", provider: "none" }, nanos(costUsd));
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
