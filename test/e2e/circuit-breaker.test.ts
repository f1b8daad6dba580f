import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fault } from "../simulators/index.ts";
import { API_KEY, type Harness, startHarness } from "./harness.ts";

/**
 * The circuit breaker seen from outside: `chain` is oa → an → ge, one call per target (no same-target
 * retries), and oa's circuit opens after 3 consecutive failures and cools down for 400 ms.
 */
const COOLDOWN = 400;
/** A key of three requests a minute. */
const LIMITED = "sk-gw-breaker-limited";
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    breaker: { failureThreshold: 3, cooldownMs: COOLDOWN, halfOpenProbes: 1, minimumRequests: 1_000 },
    retry: { retriesPerTarget: 0 },
    keys: [{ id: "limited", org: "acme", secret: LIMITED, rateLimits: { requestsPerMinute: 3 } }],
  });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const failing = (n: number): Fault[] =>
  Array.from({ length: n }, () => ({ kind: "status", status: 500 }) as const);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ask(key = API_KEY) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chain", messages: [{ role: "user", content: "hi" }] }),
  });
  await res.text();
  return {
    status: res.status,
    provider: res.headers.get("x-gateway-provider"),
    attempts: res.headers.get("x-gateway-attempts"),
  };
}

/** A request with `logit_bias`, which only OpenAI takes: its status, error code and Retry-After. */
async function biased(model: string) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model,
      logit_bias: { "50256": -100 },
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const { error } = (await res.json()) as { error: { code: string } };
  return { status: res.status, code: error.code, retryAfter: res.headers.get("retry-after") };
}

describe("circuit breaker", () => {
  it("opens after repeated failures, skips the target, probes after the cool-down and closes on success", async () => {
    h.openai.enqueueFaults(...failing(100));

    // Closed: each request pays one failed call to oa, then an serves it.
    for (let i = 0; i < 3; i++) expect(await ask()).toEqual({ status: 200, provider: "an", attempts: "2" });
    expect(h.openai.requests).toHaveLength(3);

    // Open: oa is skipped without a network call.
    for (let i = 0; i < 10; i++) expect(await ask()).toEqual({ status: 200, provider: "an", attempts: "1" });
    expect(h.openai.requests).toHaveLength(3);
    expect(h.outcomes.at(-1)?.attempts[0]).toMatchObject({ provider: "oa", outcome: "skipped" });

    // Half-open with oa still failing: exactly one probe among concurrent requests, then open again.
    await sleep(COOLDOWN + 50);
    const burst = await Promise.all(Array.from({ length: 6 }, () => ask()));
    expect(burst.every((r) => r.status === 200 && r.provider === "an")).toBe(true);
    expect(h.openai.requests).toHaveLength(4);
    await ask();
    expect(h.openai.requests).toHaveLength(4);

    // oa recovers: the next probe succeeds and the circuit closes; traffic returns to oa.
    h.openai.reset();
    await sleep(COOLDOWN + 50);
    expect(await ask()).toEqual({ status: 200, provider: "oa", attempts: "1" });
    for (let i = 0; i < 5; i++) expect((await ask()).provider).toBe("oa");
    expect(h.openai.requests).toHaveLength(6);
  });

  it("counts streams that break after their first byte against the target, and says so in their attempts", async () => {
    h.openai.enqueueFaults(
      ...Array.from({ length: 3 }, () => ({ kind: "reset-mid", afterEvents: 3 }) as const),
    );
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "chain",
          stream: true,
          messages: [{ role: "user", content: "hi there" }],
        }),
      });
      expect(await res.text()).toContain('"error"');
      await expect.poll(() => h.outcomes.length).toBe(i + 1);
      expect(h.outcomes[i]?.attempts).toEqual([
        expect.objectContaining({ provider: "oa", outcome: "failed", code: "upstream_reset" }),
      ]);
    }
    // Open: oa is skipped now.
    expect(await ask()).toEqual({ status: 200, provider: "an", attempts: "1" });
    expect(h.openai.requests).toHaveLength(3);
    await sleep(COOLDOWN + 50);
  });

  it("answers 503 circuit_open, not 400, when only a target behind an open circuit takes the request", async () => {
    h.openai.enqueueFaults(...failing(3));
    for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200);
    // oa's circuit is open; an and ge, closed, cannot take logit_bias. oa will serve it once its
    // circuit closes, so it is a 503 to retry, not the caller's fault.
    const later = await biased("chain");
    expect([later.status, later.code]).toEqual([503, "circuit_open"]);
    expect(later.retryAfter).not.toBeNull();
    await sleep(COOLDOWN + 50);
  });

  it("answers 503 circuit_open without any network call when every target's circuit is open", async () => {
    for (const sim of [h.openai, h.anthropic, h.gemini]) sim.enqueueFaults(...failing(100));
    for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(502);
    const calls = h.openai.requests.length + h.anthropic.requests.length + h.gemini.requests.length;
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "chain", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("circuit_open");
    // When the first circuit lets a probe through, in whole seconds: OpenAI's SDKs wait for it.
    expect(Number(res.headers.get("retry-after"))).toBe(Math.ceil(COOLDOWN / 1000));
    expect(h.openai.requests.length + h.anthropic.requests.length + h.gemini.requests.length).toBe(calls);
    // A parameter the open target could never take is the caller's to fix: 400 now, not "retry later".
    const never = await biased("an/claude-sim");
    expect([never.status, never.code]).toEqual([400, "unsupported_parameter"]);
    await sleep(COOLDOWN + 50);
  });

  it("gives the minute back a request its open circuits kept from every provider", async () => {
    for (const sim of [h.openai, h.anthropic, h.gemini]) sim.enqueueFaults(...failing(100));
    // Until every circuit is open (some may be half-open from the cases before).
    for (let i = 0; i < 10 && (await ask()).status !== 503; i++);
    // Three a minute, and OpenAI's SDK retries a 503 twice: five refusals, none counted.
    const answers: Array<[number, string | null]> = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${LIMITED}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "chain", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.text();
      // Its headers count the minute without it, as the next response's do.
      answers.push([res.status, res.headers.get("x-ratelimit-remaining-requests")]);
    }
    expect(answers).toEqual(Array(5).fill([503, "3"]));
    await sleep(COOLDOWN + 50);
  });
});
