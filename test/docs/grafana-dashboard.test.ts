import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * docs/grafana-dashboard.json must only query what portable mode's GET /metrics exposes: every metric
 * name in its PromQL is one functions/local/prometheus.ts registers (histograms as their _bucket, _sum
 * and _count series), so renaming a metric without the dashboard fails here.
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

/** Series names prometheus.ts registers, read from its source. */
function registeredSeries(): Set<string> {
  const source = read("functions/local/prometheus.ts");
  const names = new Set<string>();
  for (const m of source.matchAll(
    /new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*"([a-zA-Z_:][\w:]*)"/g,
  )) {
    const [, kind, name] = m as unknown as [string, string, string];
    names.add(name);
    if (kind === "Histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    if (kind === "Summary") for (const s of ["_sum", "_count"]) names.add(name + s);
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

describe("docs/grafana-dashboard.json", () => {
  const registered = registeredSeries();

  it("finds the registered metrics in prometheus.ts", () => {
    expect(registered).toContain("llm_gateway_requests_total");
    expect(registered).toContain("llm_gateway_request_duration_seconds_bucket");
    expect(registered).toContain("llm_gateway_circuit_state");
    expect(registered.size).toBeGreaterThanOrEqual(8 + 2 * 3);
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
