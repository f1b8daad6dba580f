import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fault } from "../simulators/index.ts";
import { API_KEY, type Harness, startHarness } from "./harness.ts";

/**
 * Chaos run: `chain` balances nothing and falls back oa → an → ge. oa fails half its calls at random
 * (500, 503, 429, reset before the first byte, an error event right after a stream's role-only opener);
 * an is fully down (connection resets) for the first stretch of the run, then recovers; ge stays
 * healthy. 1 000 requests, stream and non-stream mixed, 8 at a time. Failures after content are left
 * out on purpose: after the first content a failure is reported in band by design and cannot be retried.
 */
const TOTAL = 1_000;
const CONCURRENCY = 8;
let h: Harness;

/** A seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  h = await startHarness({ breaker: { cooldownMs: 200, windowMs: 2_000, minimumRequests: 20 } });
});
afterAll(() => h.close());

describe("chaos run", () => {
  it("keeps at least 99.9 % of 1 000 mixed requests succeeding while one provider is healthy", async () => {
    const random = prng(20261126);
    const kinds: Fault[] = [
      { kind: "status", status: 500 },
      { kind: "status", status: 503 },
      { kind: "status", status: 429 },
      { kind: "reset-before" },
      // Before any content, so retried or fallen back like a 5xx (non-stream calls answer normally).
      { kind: "error-mid", afterEvents: 1 },
    ];
    // A fault queue entry per call; `delay 0` is a healthy answer.
    h.openai.enqueueFaults(
      ...Array.from(
        { length: 4 * TOTAL },
        (): Fault =>
          random() < 0.5 ? kinds[Math.floor(random() * kinds.length)]! : { kind: "delay", ms: 0 },
      ),
    );
    h.anthropic.enqueueFaults(...Array.from({ length: 5_000 }, (): Fault => ({ kind: "reset-before" })));

    const served: Record<string, number> = {};
    const attempts: Record<string, number> = {};
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        // The outage ends a third of the way through.
        if (i === Math.floor(TOTAL / 3)) h.anthropic.reset();
        const stream = i % 2 === 0;
        const started = performance.now();
        const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "chain",
            stream,
            messages: [{ role: "user", content: `request ${i}` }],
          }),
        });
        const text = await res.text();
        latencies.push(performance.now() - started);
        const complete =
          res.status === 200 && !text.includes('"error"') && (!stream || text.includes("data: [DONE]"));
        if (complete) ok++;
        else {
          failed++;
          failures.push(`${res.status} ${res.headers.get("x-gateway-attempts")} ${text.slice(-300)}`);
        }
        const provider = res.headers.get("x-gateway-provider") ?? "none";
        served[provider] = (served[provider] ?? 0) + 1;
        const a = res.headers.get("x-gateway-attempts") ?? "0";
        attempts[a] = (attempts[a] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
    const report = {
      requests: TOTAL,
      succeeded: ok,
      failed,
      successRate: `${((ok / TOTAL) * 100).toFixed(2)} %`,
      servedBy: served,
      attemptsPerRequest: attempts,
      latencyMs: { p50: pct(50), p99: pct(99), max: pct(100) },
      failures,
      callsReceived: {
        oa: h.openai.requests.length,
        an: h.anthropic.requests.length,
        ge: h.gemini.requests.length,
      },
    };
    process.stdout.write(`\nchaos run: ${JSON.stringify(report, null, 2)}\n`);
    expect(ok / TOTAL).toBeGreaterThanOrEqual(0.999);
    // Every provider was really exercised: oa until its failure rate opened its circuit (and in its
    // half-open probes after), an after its outage, ge whenever both others failed.
    for (const sim of [h.openai, h.anthropic, h.gemini]) expect(sim.requests.length).toBeGreaterThan(0);
    expect(served.ge ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
