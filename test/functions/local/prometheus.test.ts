import { describe, expect, it } from "vitest";
import type { ProviderConfig } from "../../../core/config/types.ts";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { RequestOutcome } from "../../../core/gateway/types.ts";
import { createBreakerBoard } from "../../../core/routing/breaker-board.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";
import { createPrometheusMetrics } from "../../../functions/local/prometheus.ts";

const target = (providerId: string, model: string): ResolvedTarget => {
  const provider: ProviderConfig = { id: providerId, kind: "mock", region: "global", models: [] };
  return { provider, model, region: provider.region, weight: undefined, timeouts: DEFAULT_TIMEOUTS };
};

function served(overrides: Partial<RequestOutcome>): RequestOutcome {
  return {
    ...newOutcome("req-1", "/v1/chat/completions"),
    org: "acme",
    model: "smart",
    provider: "an",
    providerModel: "claude-sonnet-4-5",
    status: 200,
    latencyMs: 420,
    promptTokens: 5000,
    completionTokens: 100,
    cachedTokens: 1000,
    cacheWriteTokens: 3000,
    reasoningTokens: 0,
    costUsd: 0.0183,
    attempts: [{ provider: "an", model: "claude-sonnet-4-5", outcome: "ok", ms: 400 }],
    ...overrides,
  };
}

const labels = 'org="acme",model="smart",provider="an"';

describe("createPrometheusMetrics", () => {
  it("renders every metric family GET /metrics documents, from observed outcomes", async () => {
    const breakers = createBreakerBoard(() => 0);
    const down = target("oa", "gpt-4o");
    for (let i = 0; i < 5; i++) {
      breakers.admit(down);
      breakers.record(down, false);
    }
    const m = createPrometheusMetrics(breakers, async () => [
      { scope: "org", id: "acme", period: "day", remainingUsd: 12.5 },
    ]);
    m.observe(served({ stream: true, ttftMs: 80 }));
    m.observe(
      served({ status: 429, provider: undefined, costUsd: 0, promptTokens: undefined, attempts: [] }),
    );
    const text = await m.render();

    expect(text).toContain(`llm_gateway_requests_total{${labels},status="2xx"} 1`);
    expect(text).toContain(
      'llm_gateway_requests_total{org="acme",model="smart",provider="none",status="4xx"} 1',
    );
    expect(text).toContain(`llm_gateway_request_duration_seconds_bucket{le="0.5",${labels}} 1`);
    expect(text).toContain(`llm_gateway_time_to_first_token_seconds_bucket{le="0.1",${labels}} 1`);
    expect(text).toContain(`llm_gateway_time_to_first_token_seconds_count{${labels}} 1`);
    for (const [kind, n] of [
      ["input", 5000],
      ["output", 100],
      ["cached", 1000],
      ["cache_write", 3000],
    ] as const) {
      expect(text).toContain(`llm_gateway_tokens_total{${labels},kind="${kind}"} ${n}`);
    }
    // Zero counts add no series: a kind the provider did not report stays out.
    expect(text).not.toContain('kind="reasoning"');
    expect(text).toContain(`llm_gateway_cost_usd_total{${labels}} 0.0183`);
    expect(text).toContain('llm_gateway_upstream_attempts_total{provider="an",outcome="ok"} 1');
    expect(text).toContain('llm_gateway_budget_remaining_usd{scope="org",id="acme",period="day"} 12.5');
    expect(text).toContain('llm_gateway_circuit_state{target="oa/gpt-4o"} 2');
  });

  it("sums cost exactly, and puts an attempt's billed cost under the provider that billed it", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    // Floats would sum these to 0.21000000000000002.
    for (let i = 0; i < 3; i++) m.observe(served({ costUsd: 0.07 }));
    m.observe(
      served({
        costUsd: 0.0133,
        attempts: [
          { provider: "oa", model: "gpt-4o", outcome: "failed", ms: 5, answered: true, costUsd: 0.01 },
          { provider: "an", model: "claude-sonnet-4-5", outcome: "ok", ms: 400 },
        ],
      }),
    );
    const text = await m.render();
    expect(text).toContain(`llm_gateway_cost_usd_total{${labels}} 0.2133`);
    expect(text).toContain('llm_gateway_cost_usd_total{org="acme",model="smart",provider="oa"} 0.01');
  });

  it("counts a model no provider has served as `other`: a caller cannot mint series with made-up names", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    for (let i = 0; i < 50; i++)
      m.observe(
        served({ model: `made-up-${i}`, status: 404, provider: undefined, errorCode: "model_not_found" }),
      );
    m.observe(served({ model: "smart", status: 429, provider: undefined, costUsd: 0 }));
    const before = await m.render();
    expect(before).not.toContain("made-up-");
    expect(before).toContain(
      'llm_gateway_requests_total{org="acme",model="other",provider="none",status="4xx"} 51',
    );
    // Once served, a model keeps its own label, for its errors too.
    m.observe(served({}));
    m.observe(served({ status: 429, provider: undefined, costUsd: 0 }));
    expect(await m.render()).toContain(
      'llm_gateway_requests_total{org="acme",model="smart",provider="none",status="4xx"} 1',
    );
  });

  it("gives at most 256 `provider/model` names a label of their own, which a lenient provider would serve without end", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    for (let i = 0; i < 300; i++) m.observe(served({ model: `oa/made-up-${i}` }));
    m.observe(served({ model: "smart" }));
    const text = await m.render();
    const models = new Set(
      [...text.matchAll(/^llm_gateway_requests_total\{[^}]*model="([^"]*)"/gm)].map((x) => x[1]),
    );
    expect(models.has("oa/made-up-255")).toBe(true);
    expect(models.has("oa/made-up-256")).toBe(false);
    // An alias (the config bounds them) always has its own.
    expect(models.has("smart")).toBe(true);
    expect(text).toContain(
      'llm_gateway_requests_total{org="acme",model="other",provider="an",status="2xx"} 44',
    );
  });

  it("writes a served model name's control characters as U+FFFD, which scrapers would read as line breaks", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    m.observe(served({ model: "oa/cr\rx\u0000y" }));
    const text = await m.render();
    expect(text.includes("\r") || text.includes("\u0000")).toBe(false);
    expect(text).toContain('model="oa/cr\uFFFDx\uFFFDy"');
  });

  it("tells a 2-minute request from a 14-minute one, and never lowers a duration's sum", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    m.observe(served({ latencyMs: 120_000 }));
    m.observe(served({ latencyMs: 840_000 }));
    const text = await m.render();
    const bucket = (le: number) =>
      Number(
        text.match(
          new RegExp(`llm_gateway_request_duration_seconds_bucket\\{le="${le}",${labels}\\} (\\S+)`),
        )?.[1],
      );
    expect([bucket(60), bucket(300), bucket(900)]).toEqual([0, 1, 2]);
    const sum = async () =>
      Number(
        (await m.render()).match(
          new RegExp(`llm_gateway_request_duration_seconds_sum\\{${labels}\\} (\\S+)`),
        )?.[1],
      );
    const before = await sum();
    // The wall clock stepped back during a request.
    m.observe(served({ latencyMs: -5_000, ttftMs: -1_000 }));
    expect(await sum()).toBe(before);
  });

  it("shows a circuit once its target has served a request or while it is not closed: made-up names mint no series", async () => {
    const breakers = createBreakerBoard(() => 0);
    const m = createPrometheusMetrics(breakers);
    for (let i = 0; i < 20; i++) {
      const madeUp = target("oa", `made-up-${i}`);
      breakers.admit(madeUp);
      breakers.record(madeUp, undefined);
    }
    const good = target("an", "claude-sonnet-4-5");
    breakers.admit(good);
    breakers.record(good, true);
    m.observe(served({}));

    const text = await m.render();
    expect(text).not.toContain("made-up-");
    expect(text).toContain('llm_gateway_circuit_state{target="an/claude-sonnet-4-5"} 0');
  });

  it("leaves health probes out of the request counts", async () => {
    const m = createPrometheusMetrics(createBreakerBoard());
    m.observe({ ...newOutcome("req-h", "/healthz"), status: 200, latencyMs: 1 });
    expect(await m.render()).not.toContain("llm_gateway_requests_total{");
  });

  it("keeps each instance's series apart: two gateways in one process share nothing", async () => {
    const a = createPrometheusMetrics(createBreakerBoard());
    const b = createPrometheusMetrics(createBreakerBoard());
    a.observe(served({ stream: true, ttftMs: 80 }));
    expect(await b.render()).not.toContain("org=");
  });
});
