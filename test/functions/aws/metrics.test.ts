import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { RequestOutcome } from "../../../core/gateway/types.ts";
import { publishOutcome } from "../../../functions/aws/metrics.ts";

/**
 * The router's EMF record, as CloudWatch would ingest it from the function's stdout. POWERTOOLS_DEV
 * makes Powertools print through the global console (instead of its own stdout Console), so the test
 * reads the very JSON line it emits.
 */
interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [field: string]: unknown;
}

let lines: string[];
beforeEach(() => {
  vi.stubEnv("POWERTOOLS_DEV", "true");
  // Dev mode also disables metrics, unless told otherwise.
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  lines = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function emitted(
  o: RequestOutcome,
  metrics = new Metrics({ namespace: "LlmGateway", serviceName: "router" }),
): Emf {
  lines = [];
  publishOutcome(metrics, o);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Emf;
}

const streamed: RequestOutcome = {
  ...newOutcome("req-1", "/v1/chat/completions"),
  org: "acme",
  model: "smart",
  provider: "an",
  status: 200,
  stream: true,
  latencyMs: 812,
  ttftMs: 95,
  promptTokens: 1200,
  completionTokens: 80,
  costUsd: 0.0048,
};

describe("publishOutcome", () => {
  it("writes one EMF record per request with low-cardinality dimensions and every request metric", () => {
    const emf = emitted(streamed);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe("LlmGateway");
    expect(directive?.Dimensions).toEqual([["service", "endpoint", "provider", "status"]]);
    expect(emf).toMatchObject({
      service: "router",
      endpoint: "/v1/chat/completions",
      provider: "an",
      status: "2xx",
      requests: 1,
      latency: 812,
      timeToFirstToken: 95,
      promptTokens: 1200,
      completionTokens: 80,
      costUsd: 0.0048,
    });
    expect(Object.fromEntries(directive!.Metrics.map((m) => [m.Name, m.Unit]))).toEqual({
      requests: "Count",
      latency: "Milliseconds",
      timeToFirstToken: "Milliseconds",
      promptTokens: "Count",
      completionTokens: "Count",
      costUsd: "None",
    });
    // Orgs and keys stay out of CloudWatch dimensions and fields: per-org cost is the aggregator's job.
    expect(JSON.stringify(emf)).not.toContain("acme");
  });

  it("carries nothing over from one request's record to the next on the container's shared instance", () => {
    const shared = new Metrics({ namespace: "LlmGateway", serviceName: "router" });
    emitted(streamed, shared);
    const next = emitted({ ...newOutcome("req-3", "/v1/embeddings"), status: 200, latencyMs: 7 }, shared);
    expect(next).toMatchObject({ endpoint: "/v1/embeddings", provider: "none", requests: 1, latency: 7 });
    expect(next).not.toHaveProperty("timeToFirstToken");
    expect(next).not.toHaveProperty("costUsd");
  });

  it("never records a negative duration, which a wall clock stepped back would make", () => {
    const record = emitted({
      ...newOutcome("req-4", "/v1/chat/completions"),
      status: 200,
      latencyMs: -40,
      ttftMs: -5,
    });
    expect(record).toMatchObject({ latency: 0, timeToFirstToken: 0 });
  });

  it("puts an attempt's billed cost in a record under the provider that billed it", () => {
    lines = [];
    publishOutcome(new Metrics({ namespace: "LlmGateway", serviceName: "router" }), {
      ...streamed,
      costUsd: 0.0148,
      attempts: [
        { provider: "oa", model: "gpt-4o", outcome: "failed", ms: 5, answered: true, costUsd: 0.01 },
        { provider: "an", model: "claude-sonnet-4-5", outcome: "ok", ms: 700 },
      ],
    });
    const [request, billed] = lines.map((l) => JSON.parse(l) as Emf);
    expect(request).toMatchObject({ provider: "an", requests: 1, costUsd: 0.0048 });
    expect(billed).toMatchObject({ provider: "oa", status: "2xx", costUsd: 0.01 });
    expect(billed).not.toHaveProperty("requests");
  });

  it("leaves out what a refused request never had: provider, first token, tokens and cost", () => {
    const emf = emitted({ ...newOutcome("req-2", "/v1/chat/completions"), status: 429, latencyMs: 3 });
    expect(emf).toMatchObject({ provider: "none", status: "4xx", requests: 1, latency: 3 });
    const names = emf._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name);
    expect(names).toEqual(["requests", "latency"]);
  });

  it("counts cache and reasoning tokens, and failed and skipped attempts by provider and outcome", () => {
    lines = [];
    publishOutcome(new Metrics({ namespace: "LlmGateway", serviceName: "router" }), {
      ...streamed,
      cachedTokens: 400,
      cacheWriteTokens: 50,
      reasoningTokens: 30,
      attempts: [
        { provider: "oa", model: "gpt-4o", outcome: "failed", code: "upstream_http_error", ms: 5 },
        { provider: "oa", model: "gpt-4o", outcome: "failed", code: "upstream_http_error", ms: 6 },
        { provider: "ge", model: "gemini-2.5-flash", outcome: "skipped", ms: 0 },
        { provider: "an", model: "claude-sonnet-4-5", outcome: "ok", ms: 700 },
      ],
    });
    const [request, ...attempts] = lines.map((l) => JSON.parse(l) as Emf);
    expect(request).toMatchObject({ cachedTokens: 400, cacheWriteTokens: 50, reasoningTokens: 30 });
    expect(attempts.map((a) => [a.provider, a.outcome, a.upstreamAttempts])).toEqual([
      ["oa", "failed", 2],
      ["ge", "skipped", 1],
    ]);
    expect(attempts[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ["service", "endpoint", "provider", "outcome"],
    ]);
  });
});
