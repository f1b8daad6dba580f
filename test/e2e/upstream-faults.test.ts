import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Log, LogFields } from "../../core/log.ts";
import type { Fault } from "../simulators/index.ts";
import { API_KEY, DISARMED_BREAKER, type Harness, PROVIDERS, startHarness, TIMEOUTS } from "./harness.ts";

const warnings: Array<{ message: string } & LogFields> = [];
const log: Log = {
  info: () => {},
  warn: (message, f) => void warnings.push({ message, ...f }),
  error: () => {},
};

/**
 * How each upstream fault maps onto what the caller of a single-target model sees, once the target's
 * retries are spent (the fault is queued for every attempt). Falling back across targets is covered by
 * fallback-matrix.test.ts.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ breaker: DISARMED_BREAKER, log });
});

/** Queues a fault for every call a request may make, so retries see it too. */
const persistent = (fault: Fault): Fault[] => Array.from({ length: 4 }, () => fault);
afterAll(() => h.close());
beforeEach(() => h.reset());

interface Expect {
  status: number;
  code: string | RegExp;
  header?: [string, string];
}

/** Faults before the first byte: an ordinary HTTP error, in stream and non-stream mode alike. */
const BEFORE_FIRST_BYTE: Array<{ name: string; fault: Fault; expect: Expect; slow?: boolean }> = [
  {
    name: "500",
    fault: { kind: "status", status: 500 },
    expect: { status: 502, code: "upstream_http_error" },
  },
  {
    name: "503",
    fault: { kind: "status", status: 503 },
    expect: { status: 502, code: "upstream_http_error" },
  },
  {
    name: "429 with Retry-After",
    fault: { kind: "status", status: 429, headers: { "retry-after": "7" } },
    expect: { status: 429, code: "upstream_rate_limited", header: ["retry-after", "7"] },
  },
  {
    name: "429 without Retry-After",
    fault: { kind: "status", status: 429 },
    expect: { status: 429, code: "upstream_rate_limited" },
  },
  {
    name: "401 (the gateway's credential)",
    fault: { kind: "status", status: 401 },
    expect: { status: 502, code: "upstream_auth_failed" },
  },
  {
    name: "400 (the caller's fault)",
    fault: { kind: "status", status: 400 },
    expect: { status: 400, code: "upstream_invalid_request" },
  },
  {
    name: "an HTML page",
    fault: { kind: "html" },
    expect: { status: 502, code: "upstream_malformed" },
  },
  {
    // A server that ignores `stream` answers with its whole completion as JSON.
    name: "a 200 JSON document",
    fault: { kind: "status", status: 200, body: JSON.stringify({ answer: "not what was asked for" }) },
    expect: { status: 502, code: "upstream_malformed" },
  },
  {
    name: "invalid JSON",
    fault: { kind: "invalid-json" },
    expect: { status: 502, code: "upstream_malformed" },
  },
  {
    name: "a reset before the first byte",
    fault: { kind: "reset-before" },
    expect: { status: 502, code: /upstream_(reset|unreachable)/ },
  },
  {
    name: "a hang before the first byte",
    fault: { kind: "hang-before" },
    expect: { status: 504, code: "upstream_timeout" },
    slow: true,
  },
];

describe.each(PROVIDERS)("upstream faults from $name", ({ model, sim }) => {
  describe.each([false, true])("stream=%s", (stream) => {
    it.each(BEFORE_FIRST_BYTE)("maps $name to a clean HTTP error", async ({ fault, expect: want, slow }) => {
      sim(h).enqueueFaults(...persistent(fault));
      const started = Date.now();
      const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-gw-e2e-api-key", "content-type": "application/json" },
        body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(want.status);
      expect(body.error.code).toMatch(want.code);
      expect(res.headers.get("x-gateway-provider")).toBe(model.split("/")[0]);
      if (want.header) expect(res.headers.get(want.header[0])).toBe(want.header[1]);
      if (want.status === 502 && want.code === "upstream_http_error")
        expect(body.error.message).toMatch(/'(oa|an|ge)'.*HTTP 5\d\d/);
      // undici's header timer has ~0.5 s resolution, so the bound is loose on purpose.
      if (slow) expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUTS.firstByteMs / 2);
      expect(body.error.message).not.toMatch(/test-key/);
    });
  });

  it("names the provider by its id, not its kind, when its answer has the wrong shape", async () => {
    sim(h).enqueueFaults(
      ...persistent({ kind: "status", status: 200, body: JSON.stringify({ nothing: "here" }) }),
    );
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-gw-e2e-api-key", "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([502, "upstream_malformed"]);
    expect(body.error.message).toMatch(
      new RegExp(`^Provider '${model.split("/")[0]}' returned (an unexpected response|no candidates)`),
    );
  });

  it("turns a reset after the first byte into an in-band error event, not a silent cut", async () => {
    sim(h).enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    const stream = await h.client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "a fairly long message to stream" }],
    });
    let content = "";
    const err = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/closed the connection|ended before/);
    expect(content.length).toBeGreaterThan(0);
    await expect.poll(() => h.outcomes.at(-1)?.errorCode).toMatch(/upstream_(reset|truncated)/);
  });

  it("ends a stream that goes silent with an in-band timeout error", async () => {
    sim(h).enqueueFaults({ kind: "hang-mid", afterEvents: 4 });
    const stream = await h.client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "a fairly long message to stream" }],
    });
    const started = Date.now();
    const err = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUTS.idleMs / 2);
  });

  it.each([
    ["reset", { kind: "reset-mid", afterEvents: 1 } as Fault, 502],
    ["hang", { kind: "hang-mid", afterEvents: 1 } as Fault, 504],
  ])("maps a non-stream body %s half-way to %d", async (_n, fault, status) => {
    sim(h).enqueueFaults(...persistent(fault));
    const err = await h.client.chat.completions
      .create({ model, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status });
  });

  it("serves a slow but healthy provider", async () => {
    sim(h).enqueueFaults({ kind: "delay", ms: 200 });
    const res = await h.client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "slow" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: slow");
  });
});

/**
 * Error events inside a 200 stream, before any content: each provider's own wire form (Anthropic's
 * `event: error` after `message_start`, OpenAI's `data: {"error":…}`, Gemini's google.rpc error). Until
 * content is sent they are retried or fall back like the HTTP status they stand for.
 */
const IN_STREAM: Record<(typeof PROVIDERS)[number]["name"], { opener: number; afterContent: number }> = {
  // Events before content: OpenAI's role-only chunk; Anthropic's message_start, an empty text block's
  // start and a ping; none for Gemini, which sends text at once. `afterContent`: some text has gone out.
  openai: { opener: 1, afterContent: 3 },
  anthropic: { opener: 1, afterContent: 5 },
  gemini: { opener: 0, afterContent: 2 },
};

/** A streamed chat call through the SDK: the status, the attempts made and the text (or the error). */
async function streamed(model: string) {
  const { data, response } = await h.client.chat.completions
    .create({ model, stream: true, messages: [{ role: "user", content: "stream me" }] })
    .withResponse();
  let content = "";
  for await (const chunk of data) content += chunk.choices[0]?.delta.content ?? "";
  return { status: response.status, attempts: response.headers.get("x-gateway-attempts"), content };
}

describe.each(PROVIDERS)("error events in a $name stream", ({ name, model, sim }) => {
  const kinds = IN_STREAM[name];

  it.each([
    ["as its first event", 0],
    ["right after its role-only opener", kinds.opener],
  ])("retries an overload reported %s, and the retry answers", async (_when, afterEvents) => {
    sim(h).enqueueFaults({ kind: "error-mid", afterEvents });
    const res = await streamed(model);
    expect(res).toEqual({ status: 200, attempts: "2", content: "Echo: stream me" });
    expect(sim(h).requests).toHaveLength(2);
  });

  it("answers a persistent overload after the target's retries as the provider's 5xx would be answered", async () => {
    sim(h).enqueueFaults(...persistent({ kind: "error-mid", afterEvents: kinds.opener }));
    const err = await streamed(model).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "upstream_http_error" });
    expect(sim(h).requests).toHaveLength(2);
  });

  it("does not retry a rate-limit event on the same target: it carries no Retry-After", async () => {
    sim(h).enqueueFaults(...persistent({ kind: "error-mid", afterEvents: kinds.opener, status: 429 }));
    const err = await streamed(model).catch((e: unknown) => e);
    // Answered as the provider's 429 would be, without a Retry-After the event never carries.
    expect(err).toMatchObject({ status: 429, code: "upstream_rate_limited" });
    expect(sim(h).requests).toHaveLength(1);
  });

  it("reports an error event after content in band, once", async () => {
    sim(h).enqueueFaults({ kind: "error-mid", afterEvents: kinds.afterContent });
    const err = await streamed(model).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed mid-stream/);
    expect(sim(h).requests).toHaveLength(1);
  });
});

describe("gateway credentials", () => {
  it("turns the provider's 401 into a 502 that leaks nothing", async () => {
    const err = await h.client.chat.completions
      .create({ model: "badkey/gpt-sim", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "upstream_auth_failed" });
    expect(JSON.stringify(err)).not.toContain("sk-provider-secret-that-must-not-leak");
    expect(String((err as Error).message)).not.toContain("Incorrect API key");
  });

  it("tells OpenAI's SDK not to retry it: a credential does not fix itself", async () => {
    const retrying = new OpenAI({ apiKey: API_KEY, baseURL: `${h.gateway.url}/v1`, maxRetries: 2 });
    const before = h.openai.requests.length;
    const err = await retrying.chat.completions
      .create({ model: "badkey/gpt-sim", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "upstream_auth_failed" });
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get("x-should-retry")).toBe("false");
    expect(h.openai.requests.length - before).toBe(1);
  });

  it.each([false, true])(
    "answers 502 when the provider cannot be reached at all (stream=%s)",
    async (stream) => {
      const err = await h.client.chat.completions
        .create({ model: "down/gpt-sim", stream, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 502, code: "upstream_unreachable" });
    },
  );

  it("tells the operator why a provider could not be reached, which the caller is not told", async () => {
    warnings.length = 0;
    await h.client.chat.completions
      .create({ model: "down/gpt-sim", messages: [{ role: "user", content: "x" }] })
      .catch(() => undefined);
    expect(warnings).toContainEqual(
      expect.objectContaining({
        message: "provider unreachable",
        provider: "down",
        cause: expect.stringContaining("ECONNREFUSED"),
      }),
    );
  });
});
