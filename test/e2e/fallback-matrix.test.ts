import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fault } from "../simulators/index.ts";
import { API_KEY, DISARMED_BREAKER, type Harness, startHarness, TIMEOUTS } from "./harness.ts";

/**
 * The fault matrix: every fault kind on the primary of `chain` (oa → an → ge), stream and non-stream,
 * with the outcome, the attempts made and the time taken. Faults are queued for every call to the
 * primary, so retries meet them too.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ breaker: DISARMED_BREAKER });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

interface Row {
  fault: string;
  make: Fault;
  /** Expected per mode; `inBand` means 200 whose stream ends with an error event. */
  stream: Outcome;
  plain: Outcome;
  minMs?: number;
}
interface Outcome {
  status: number;
  provider: "oa" | "an";
  attempts: number;
  inBand?: boolean;
}

const ok = (attempts: number): Outcome => ({ status: 200, provider: "an", attempts });
const MATRIX: Row[] = [
  { fault: "500", make: { kind: "status", status: 500 }, stream: ok(3), plain: ok(3) },
  { fault: "503", make: { kind: "status", status: 503 }, stream: ok(3), plain: ok(3) },
  {
    fault: "429 with Retry-After: 1 (honoured, then fallback)",
    make: { kind: "status", status: 429, headers: { "retry-after": "1" } },
    stream: ok(3),
    plain: ok(3),
    minMs: 1_000,
  },
  {
    fault: "429 with Retry-After past the cap",
    make: { kind: "status", status: 429, headers: { "retry-after": "120" } },
    stream: ok(2),
    plain: ok(2),
  },
  { fault: "429 without Retry-After", make: { kind: "status", status: 429 }, stream: ok(2), plain: ok(2) },
  { fault: "reset before the first byte", make: { kind: "reset-before" }, stream: ok(3), plain: ok(3) },
  {
    fault: "reset mid-stream",
    make: { kind: "reset-mid", afterEvents: 4 },
    stream: { status: 200, provider: "oa", attempts: 1, inBand: true },
    plain: ok(3),
  },
  {
    fault: "hang before the first byte",
    make: { kind: "hang-before" },
    stream: ok(2),
    plain: ok(2),
    minMs: TIMEOUTS.firstByteMs / 2,
  },
  {
    fault: "hang mid-stream",
    make: { kind: "hang-mid", afterEvents: 4 },
    stream: { status: 200, provider: "oa", attempts: 1, inBand: true },
    plain: ok(2),
    minMs: TIMEOUTS.idleMs / 2,
  },
  { fault: "HTML body", make: { kind: "html" }, stream: ok(2), plain: ok(2) },
  { fault: "invalid JSON", make: { kind: "invalid-json" }, stream: ok(2), plain: ok(2) },
  {
    fault: "an error event after the role-only opener (retried, then fallback)",
    make: { kind: "error-mid", afterEvents: 1 },
    stream: ok(3),
    plain: { status: 200, provider: "oa", attempts: 1 },
  },
  {
    fault: "a rate-limit error event after the role-only opener (fallback at once)",
    make: { kind: "error-mid", afterEvents: 1, status: 429 },
    stream: ok(2),
    plain: { status: 200, provider: "oa", attempts: 1 },
  },
  {
    fault: "an invalid-request error event (the caller's fault: never falls back)",
    make: { kind: "error-mid", afterEvents: 1, status: 400 },
    stream: { status: 400, provider: "oa", attempts: 1 },
    plain: { status: 200, provider: "oa", attempts: 1 },
  },
  {
    fault: "an error event after content",
    make: { kind: "error-mid", afterEvents: 3 },
    stream: { status: 200, provider: "oa", attempts: 1, inBand: true },
    plain: { status: 200, provider: "oa", attempts: 1 },
  },
  {
    fault: "400 (the caller's fault: never falls back)",
    make: { kind: "status", status: 400 },
    stream: { status: 400, provider: "oa", attempts: 1 },
    plain: { status: 400, provider: "oa", attempts: 1 },
  },
];

/** The answer's text, from a completion or reassembled from a stream's chunks. */
function contentOf(text: string, stream: boolean): string {
  if (!stream)
    return (JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
      .content;
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: {"))
    .map(
      (e) =>
        (JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta
          .content ?? "",
    )
    .join("");
}

async function call(model: string, stream: boolean) {
  const started = Date.now();
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model,
      stream,
      messages: [{ role: "user", content: "a message long enough to stream" }],
    }),
  });
  const text = await res.text();
  return { res, text, ms: Date.now() - started };
}

describe.each([
  ["stream", true],
  ["non-stream", false],
] as const)("fallback matrix (%s)", (_mode, stream) => {
  it.each(MATRIX)("$fault on the primary", async (row) => {
    const want = stream ? row.stream : row.plain;
    h.openai.enqueueFaults(...Array.from({ length: 4 }, () => row.make));
    const { res, text, ms } = await call("chain", stream);
    expect(res.status).toBe(want.status);
    expect(res.headers.get("x-gateway-provider")).toBe(want.provider);
    expect(res.headers.get("x-gateway-attempts")).toBe(String(want.attempts));
    expect(h.anthropic.requests).toHaveLength(want.provider === "an" ? 1 : 0);
    expect(h.gemini.requests).toHaveLength(0);
    if (want.status === 200 && !want.inBand) {
      expect(contentOf(text, stream)).toBe("Echo: a message long enough to stream");
      if (stream) expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    }
    if (want.inBand) expect(text).toMatch(/data: \{"error":/);
    if (row.minMs) expect(ms).toBeGreaterThanOrEqual(row.minMs);
    // A fallback costs the failed attempts and nothing more: no waiting beyond the configured bounds.
    expect(ms).toBeLessThan((row.minMs ?? 0) + 3_000);
    await expect.poll(() => h.outcomes.length).toBeGreaterThan(0);
    expect(h.outcomes.at(-1)?.attempts.length).toBe(want.attempts);
  });
});

describe("fallback from Anthropic's overload reported in its stream (opus-first: an → oa)", () => {
  it.each([
    ["as its first event", 0],
    ["right after message_start, as Anthropic usually streams it", 1],
  ])("serves from OpenAI when the overload comes %s", async (_when, afterEvents) => {
    h.anthropic.enqueueFaults(
      ...Array.from({ length: 4 }, (): Fault => ({ kind: "error-mid", afterEvents })),
    );
    const { res, text } = await call("opus-first", true);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-provider")).toBe("oa");
    // One retry of the overloaded target, like an HTTP 529, then the fallback.
    expect(res.headers.get("x-gateway-attempts")).toBe("3");
    expect(contentOf(text, true)).toBe("Echo: a message long enough to stream");
    expect(text).not.toContain('"error"');
    await expect.poll(() => h.outcomes.length).toBeGreaterThan(0);
    expect(h.outcomes.at(-1)?.attempts.map((a) => `${a.provider}:${a.outcome}:${a.code ?? ""}`)).toEqual([
      "an:failed:upstream_http_error",
      "an:failed:upstream_http_error",
      "oa:ok:",
    ]);
  });
});

describe("fallback past a provider that refuses connections", () => {
  it.each([true, false])("serves from the next target (stream=%s)", async (stream) => {
    const { res } = await call("chain-down", stream);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-provider")).toBe("an");
    expect(res.headers.get("x-gateway-attempts")).toBe("2");
  });
});
