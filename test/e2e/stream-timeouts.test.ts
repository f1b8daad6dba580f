import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, DISARMED_BREAKER, type Harness, PROVIDERS, startHarness } from "./harness.ts";

/**
 * Where a stream's timeouts count from. `firstByteMs` bounds the wait for the first event from the
 * call's start (headers included); `idleMs` bounds each silence after it, not the wait for it.
 */
async function stream(h: Harness, model: string) {
  const started = Date.now();
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "think first" }] }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    ms: Date.now() - started,
    attempts: res.headers.get("x-gateway-attempts"),
  };
}

function harness(timeouts: { firstByteMs: number; idleMs: number }) {
  const box: { h?: Harness } = {};
  beforeAll(async () => {
    box.h = await startHarness({ breaker: DISARMED_BREAKER, retry: { retriesPerTarget: 0 }, timeouts });
  });
  afterAll(() => box.h?.close());
  return async () => {
    await box.h!.reset();
    return box.h!;
  };
}

describe("a first event slower than idleMs, within firstByteMs", () => {
  const IDLE = 500;
  const get = harness({ firstByteMs: 3_000, idleMs: IDLE });
  it.each(PROVIDERS)("is waited for at $name: a model may think before it speaks", async ({ model, sim }) => {
    const h = await get();
    sim(h).enqueueFaults({ kind: "slow-start", firstEventMs: IDLE * 3 });
    const res = await stream(h, model);
    expect(res.status).toBe(200);
    expect(res.text).toContain("data: [DONE]");
    expect(res.attempts).toBe("1");
    expect(res.ms).toBeGreaterThanOrEqual(IDLE * 3);
  });
});

describe("firstByteMs for a stream", () => {
  const FIRST_BYTE = 1_500;
  const get = harness({ firstByteMs: FIRST_BYTE, idleMs: 5_000 });
  it.each(PROVIDERS)(
    "counts from the call's start at $name, not from the headers",
    async ({ model, sim }) => {
      const h = await get();
      sim(h).enqueueFaults({ kind: "slow-start", headersMs: 900, firstEventMs: 1_200 });
      const res = await stream(h, model);
      expect(res.status).toBe(504);
      expect(res.text).toContain("upstream_timeout");
      expect(res.ms).toBeLessThan(900 + 1_200);
    },
  );
});
