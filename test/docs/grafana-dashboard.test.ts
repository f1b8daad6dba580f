import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ProviderConfig } from "../../core/config/types.ts";
import { newOutcome } from "../../core/gateway/outcome.ts";
import { createBreakerBoard } from "../../core/routing/breaker-board.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../core/routing/resolve.ts";
import { createPrometheusMetrics } from "../../functions/local/prometheus.ts";

/**
 * docs/grafana-dashboard.json must only query what portable mode's GET /metrics exposes: every metric
 * name in its PromQL is a series functions/local/prometheus.ts renders (histograms as their _bucket,
 * _sum and _count series), so renaming or unregistering a metric without the dashboard fails here.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { type: string; uid: string } }>;
  panels?: Panel[];
}

interface Dashboard {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; definition: string; query: { query: string } }> };
}

const dashboard = JSON.parse(read("docs/grafana-dashboard.json")) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.filter((p) => p.type !== "row");
const exprs = [
  ...queries.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
  ...dashboard.templating.list.map((v) => ({ where: `$${v.name}`, expr: v.query.query })),
];

/**
 * Series names GET /metrics renders once each family has a sample: a real registry fed one served stream
 * (latency, TTFT, every token kind, cost, an attempt), one open circuit and one budget reading. Reading
 * the rendered text, not the source, catches a metric that is declared but never exposed.
 */
async function renderedSeries(): Promise<Set<string>> {
  const breakers = createBreakerBoard(() => 0);
  const provider: ProviderConfig = { id: "oa", kind: "openai", region: "us", models: [] };
  const target: ResolvedTarget = {
    provider,
    model: "gpt-4o",
    region: "us",
    weight: undefined,
    timeouts: DEFAULT_TIMEOUTS,
  };
  breakers.admit(target);
  breakers.record(target, true);
  const metrics = createPrometheusMetrics(breakers, async () => [
    { scope: "org", id: "acme", period: "day", remainingUsd: 1 },
  ]);
  metrics.observe({
    ...newOutcome("r1", "/v1/chat/completions"),
    org: "acme",
    model: "smart",
    provider: "oa",
    status: 200,
    stream: true,
    latencyMs: 100,
    ttftMs: 10,
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 2,
    cacheWriteTokens: 3,
    reasoningTokens: 1,
    costUsd: 0.01,
    attempts: [{ provider: "oa", model: "gpt-4o", outcome: "ok", ms: 90 }],
  });
  const names = new Set<string>();
  for (const line of (await metrics.render()).split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

// PromQL words that are not metric names.
const FUNCTIONS =
  /^(sum|min|max|avg|count|stddev|stdvar|topk|bottomk|quantile|count_values|group|by|without|on|ignoring|group_left|group_right|bool|and|or|unless|offset|rate|irate|increase|delta|idelta|deriv|histogram_quantile|label_replace|label_join|label_values|abs|ceil|floor|round|clamp|clamp_min|clamp_max|time|vector|scalar|absent|sort|sort_desc|predict_linear|avg_over_time|max_over_time|min_over_time|sum_over_time|last_over_time|inf|nan)$/i;

/**
 * Metric names of one expression: strings, label matchers, ranges and grouping label lists removed (and
 * the label argument of Grafana's `label_values(metric, label)`).
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/^label_values\((.*),\s*\w+\)$/, "$1")
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\$\w+/g, "");
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)].map((m) => m[0]).filter((w) => !FUNCTIONS.test(w));
}

describe("docs/grafana-dashboard.json", async () => {
  const registered = await renderedSeries();

  it("finds the metrics GET /metrics renders", () => {
    expect(registered).toContain("llm_gateway_requests_total");
    expect(registered).toContain("llm_gateway_request_duration_seconds_bucket");
    expect(registered).toContain("llm_gateway_time_to_first_token_seconds_bucket");
    expect(registered).toContain("llm_gateway_circuit_state");
    expect(registered.size).toBe(6 + 2 * 3); // six families plus two histograms of three series each
  });

  it("queries only metrics portable mode registers", () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(registered, `${where}: ${name} in ${expr}`).toContain(name);
      // Belt and braces: any gateway-looking name anywhere in the text, label matchers included.
      for (const [name] of expr.matchAll(/llm_gateway_\w+/g)) expect(registered, where).toContain(name);
    }
  });

  it("reads histograms through their _bucket series", () => {
    for (const { where, expr } of exprs.filter((e) => e.expr.includes("histogram_quantile"))) {
      expect(expr, where).toMatch(/_bucket\{/);
      expect(expr, where).toMatch(/\ble\b/);
    }
  });

  it("shows a spend rate in dollars an hour, not as an amount of dollars", () => {
    type Unit = { fieldConfig?: { defaults?: { unit?: string } } };
    const unit = (title: string) =>
      (queries.find((p) => p.title === title) as Unit | undefined)?.fieldConfig?.defaults?.unit;
    expect(
      ["Cost by org", "Cost by model", "Burn rate vs budget", "Hours until budget exhausted"].map(unit),
    ).toEqual(["suffix:$/h", "suffix:$/h", "suffix:$/h", "h"]);
  });

  it("has the required panels", () => {
    const titles = queries.map((p) => p.title);
    for (const title of [
      "Cost by org",
      "Cost by model",
      "Burn rate vs budget",
      "Hours until budget exhausted",
      "Latency p50/p99 by model",
      "Time to first token p50/p99 by model",
      "Error rate by status class",
      "Error rate by provider",
      "Fallback and skip rate",
      "Circuit state",
      "Tokens by kind",
    ])
      expect(titles).toContain(title);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it("imports cleanly: a datasource input, a recent schema and org/model variables", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.__inputs).toContainEqual(
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's import placeholder, not a template
    const ds = { type: "prometheus", uid: "${DS_PROMETHEUS}" };
    for (const p of queries) {
      expect(p.datasource, p.title).toEqual(ds);
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual(ds);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["org", "model"]);
  });
});
