import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../../core/api/chat-response.ts";
import { GatewayError } from "../../../core/api/errors.ts";
import type { StreamEnd, TranslateOptions } from "../../../core/gateway/stream-options.ts";
import { translateStream } from "../../../core/gateway/stream-translator.ts";
import { chatAdapters } from "../../../core/providers/adapters.ts";
import { openaiChat } from "../../../core/providers/openai/index.ts";

const META = { id: "chatcmpl-gw", created: 1_700_000_000, model: "gpt-4o", provider: "openai" };
const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o",
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
const usageChunk = `data: ${JSON.stringify({
  id: "c1",
  created: 1,
  model: "gpt-4o",
  choices: [],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
})}\n\n`;
const DONE = "data: [DONE]\n\n";
/** How OpenAI opens a stream: the role, an empty content and no refusal, nothing the caller must see. */
const opener = `data: ${JSON.stringify({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o",
  choices: [{ index: 0, delta: { role: "assistant", content: "", refusal: null }, finish_reason: null }],
})}\n\n`;
const errorEvent = `data: ${JSON.stringify({ error: { message: "overloaded", type: "server_error" } })}\n\n`;

/** How a stream ends whose caller went away after its first chunk (at 42): no error, no bill. */
const CALLER_LEFT: StreamEnd = {
  usage: undefined,
  usageFinal: false,
  error: undefined,
  firstChunkAt: 42,
  clientClosed: true,
  callerStalled: false,
};

/** Whether the promise has settled by now (after the events already written were processed). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await sleep(20);
  return done;
}

function start(opts: Partial<TranslateOptions> = {}) {
  const upstream = new PassThrough();
  const ends: StreamEnd[] = [];
  const promise = translateStream(upstream, {
    adapter: openaiChat,
    meta: META,
    provider: "openai",
    includeUsage: false,
    firstEventMs: 5_000,
    idleMs: 60_000,
    keepAliveMs: 60_000,
    now: () => 42,
    onEnd: (e) => ends.push(e),
    maxEventChars: 64 * 1024,
    maxEventLines: 100,
    ...opts,
  });
  return { upstream, ends, promise };
}

async function readAll(out: Readable): Promise<string[]> {
  const parts: string[] = [];
  for await (const p of out) parts.push(String(p));
  return parts.join("").split(/(?<=\n\n)/);
}

const payloads = (events: string[]) =>
  events.map((e) => (e === DONE ? "[DONE]" : (JSON.parse(e.replace(/^data: /, "")) as unknown)));

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("translateStream over the OpenAI adapter", () => {
  it("calls a stream that ends inside its last event truncated, not malformed", async () => {
    const { upstream, promise } = start();
    upstream.end(`${chunk("Hi")}data: {"id":"c1","choi`);
    const events = payloads(await readAll(await promise));
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_truncated" } });
  });

  it("gives held text back before the error of a stream that breaks, and before the usage chunk", async () => {
    const auth = { authorization: "Bearer sk-proj-ABCdef0123456789" };
    const broken = start({ requestHeaders: auth });
    broken.upstream.end(chunk("This is s"));
    const events = payloads(await readAll(await broken.promise)) as Array<Record<string, unknown>>;
    const text = events.map(
      (e) => (e as { choices?: Array<{ delta: { content?: string } }> }).choices?.[0]?.delta.content ?? "",
    );
    expect(text.join("")).toBe("This is s");
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_truncated" } });

    const usage = start({ requestHeaders: auth, includeUsage: true });
    usage.upstream.end(chunk("This is s") + usageChunk + DONE);
    const parts = payloads(await readAll(await usage.promise)) as Array<{
      choices?: Array<{ delta: { content?: string } }>;
      usage?: unknown;
    }>;
    const usageAt = parts.findIndex((p) => p.choices?.length === 0);
    expect(
      parts
        .slice(0, usageAt)
        .map((p) => p.choices?.[0]?.delta.content ?? "")
        .join(""),
    ).toBe("This is s");
    // The usage chunk last, then [DONE].
    expect(usageAt).toBe(parts.length - 2);
  });

  it("masks the credential in any field of a chunk, escapes decoded, and drops the logprobs of what it held", async () => {
    const key = "sk-proj-ABCdef0123456789";
    const event = (id: string, content: string, token: string, finish: string | null = null) =>
      `data: {"id":"${id}","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"${content}"},"logprobs":{"content":[{"token":"${token}","logprob":-1,"bytes":null,"top_logprobs":[]}]},"finish_reason":${finish ? `"${finish}"` : "null"}}]}\n\n`;
    const { upstream, promise } = start({ requestHeaders: { authorization: `Bearer ${key}` } });
    upstream.end(
      event("\\u0073k-proj-ABCdef0123456789", "ok ", "ok ") +
        event("c1", "sk-proj-ABC", "sk-proj-ABC") +
        event("c1", "def0123456789", "def0123456789", "stop") +
        DONE,
    );
    const text = (await readAll(await promise)).join("");
    expect(text).not.toContain(key);
    expect(text).not.toContain("sk-proj-ABC");
    expect(text).toContain('"id":"[REDACTED]"');
    expect(text).toContain("[REDACTED]");
  });

  it.each([
    [
      "split across deltas",
      [chunk("your key: sk-proj-AB"), chunk("Cdef0123456789 ok", "stop")],
      "your key: [REDACTED] ok",
    ],
    // Held text that begins the key more than once, at a [DONE] without a finish reason: given back once.
    ["begun, then never finished", [chunk("x abcabc"), DONE], "x abcabc"],
  ])("masks the credential it sent in a streamed answer: %s", async (_what, events, text) => {
    const { upstream, promise } = start({
      requestHeaders: {
        authorization: `Bearer ${text.startsWith("x") ? "abcabcabcXYZ12345" : "sk-proj-ABCdef0123456789"}`,
      },
    });
    upstream.end(events.join(""));
    const parts = payloads(await readAll(await promise)) as Array<{
      choices?: Array<{ delta: { content?: string } }>;
    }>;
    expect(parts.map((p) => p.choices?.[0]?.delta.content ?? "").join("")).toBe(text);
  });

  it("resolves once the first chunk is ready, before the upstream ends", async () => {
    const { upstream, promise } = start();
    upstream.write(chunk("Hel"));
    const out = await promise;
    upstream.end(chunk("lo", "stop") + DONE);
    expect(payloads(await readAll(out))).toMatchObject([
      { choices: [{ delta: { content: "Hel" } }] },
      { choices: [{ delta: { content: "lo" }, finish_reason: "stop" }] },
      "[DONE]",
    ]);
  });

  it("frames every event as `data: {...}\\n\\n` and ends with data: [DONE]", async () => {
    const { upstream, promise, ends } = start();
    upstream.end(chunk("a") + chunk("b", "stop") + DONE);
    const events = await readAll(await promise);
    expect(events).toHaveLength(3);
    for (const e of events.slice(0, -1)) expect(e).toMatch(/^data: \{.*\}\n\n$/);
    expect(events.at(-1)).toBe(DONE);
    expect(ends).toEqual([
      {
        usage: undefined,
        usageFinal: true,
        error: undefined,
        firstChunkAt: 42,
        clientClosed: false,
        callerStalled: false,
      },
    ]);
  });

  it.each([
    [true, [null, null]],
    [false, [undefined, undefined]],
  ])(
    "marks each chunk usage: null when the caller asked for usage (%s), as OpenAI does",
    async (includeUsage, marks) => {
      const { upstream, promise } = start({ includeUsage });
      upstream.end(chunk("a") + chunk("b", "stop") + DONE);
      const events = payloads(await readAll(await promise)).slice(0, -1) as Array<{ usage?: unknown }>;
      expect(events.map((e) => e.usage)).toEqual(marks);
    },
  );

  it("survives events split at any byte, including inside a multi-byte character", async () => {
    const { upstream, promise } = start();
    const bytes = Buffer.from(chunk("héllo ✨", "stop") + DONE);
    for (const b of bytes) upstream.write(Buffer.from([b]));
    upstream.end();
    expect(payloads(await readAll(await promise))[0]).toMatchObject({
      choices: [{ delta: { content: "héllo ✨" } }],
    });
  });

  it.each([
    [false, 2],
    [true, 3],
  ])("with includeUsage %s sends %i events and reports usage either way", async (includeUsage, count) => {
    const { upstream, promise, ends } = start({ includeUsage });
    upstream.end(chunk("a", "stop") + usageChunk + DONE);
    const events = await readAll(await promise);
    expect(events).toHaveLength(count);
    if (includeUsage) expect(payloads(events)[1]).toMatchObject({ choices: [], usage: { total_tokens: 5 } });
    expect(ends[0]?.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  it("sends an in-band error and ends when the upstream stops without [DONE] after the first chunk", async () => {
    const { upstream, promise, ends } = start();
    upstream.write(chunk("partial"));
    const out = await promise;
    upstream.end();
    const events = payloads(await readAll(out));
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ error: { type: "upstream_error", code: "upstream_truncated" } });
    expect(ends).toHaveLength(1);
    expect(ends[0]?.error).toMatchObject({ status: 502, code: "upstream_truncated" });
  });

  it.each([
    [
      "Anthropic: message_stop without the message_delta that tells the stop reason and the bill",
      "anthropic",
      [
        [
          "message_start",
          { message: { id: "m", model: "claude", usage: { input_tokens: 62, output_tokens: 1 } } },
        ],
        ["content_block_start", { index: 0, content_block: { type: "text", text: "" } }],
        ["content_block_delta", { index: 0, delta: { type: "text_delta", text: "partial" } }],
        ["content_block_stop", { index: 0 }],
        ["message_stop", {}],
      ].map(
        ([type, payload]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...(payload as object) })}\n\n`,
      ),
    ],
  ] as const)(
    "ends a stream whose ending was never told as truncated, with no final usage (%s)",
    async (_, kind, events) => {
      const { upstream, promise, ends } = start({ adapter: chatAdapters[kind] });
      for (const e of events) upstream.write(e);
      const out = await promise;
      upstream.end();
      const sent = payloads(await readAll(out));
      expect(sent.at(-1)).toMatchObject({ error: { code: "upstream_truncated" } });
      expect(JSON.stringify(sent)).not.toMatch(/"finish_reason":"/);
      expect(ends[0]).toMatchObject({ usageFinal: false, error: { code: "upstream_truncated" } });
    },
  );

  it.each([
    ["closed", (u: PassThrough) => u.end()],
    [
      "reset",
      (u: PassThrough) => u.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })),
    ],
  ])(
    "ends cleanly a stream %s after its finish reason and usage chunk, though [DONE] never came",
    async (_, cut) => {
      const { upstream, promise, ends } = start({ includeUsage: true });
      upstream.write(chunk("whole"));
      const out = await promise;
      upstream.write(chunk("", "stop") + usageChunk);
      await sleep(10);
      cut(upstream);
      const events = payloads(await readAll(out));
      expect(events.at(-1)).toBe("[DONE]");
      expect(JSON.stringify(events)).not.toMatch(/"error"/);
      expect(ends[0]).toMatchObject({ usageFinal: true, error: undefined });
    },
  );

  it("ends cleanly at [DONE] an OpenAI-compatible stream that never gave a finish reason", async () => {
    const { upstream, promise, ends } = start();
    upstream.write(chunk("whole"));
    const out = await promise;
    upstream.end(DONE);
    expect(payloads(await readAll(out)).at(-1)).toBe("[DONE]");
    expect(ends[0]?.error).toBeUndefined();
  });

  it("rejects with a 502 when the upstream ends before any event", async () => {
    const { upstream, promise, ends } = start();
    upstream.end();
    expect(await rejection(promise)).toMatchObject({ status: 502, code: "upstream_truncated" });
    expect(ends[0]?.firstChunkAt).toBeUndefined();
  });

  it.each([
    ["one endless data line", "data: ", "x"],
    ["an event of endless data lines", "", "data: x\n"],
    ["an event of endless empty data lines, few characters but many lines", "", "data:\n"],
  ])(
    "rejects with a 502 a first event past maxEventChars (%s), holding no more of it",
    async (_, head, piece) => {
      const { upstream, promise, ends } = start({ maxEventChars: 1_000 });
      upstream.write(head);
      for (let i = 0; i < 200; i++) upstream.write(piece.repeat(10));
      const err = await rejection(promise);
      expect(err).toMatchObject({ status: 502, code: "upstream_too_large" });
      expect(err.message).toBe("Provider 'openai' sent a stream event past 1000 characters or 100 lines.");
      expect(ends).toHaveLength(1);
      expect(upstream.destroyed).toBe(true);
    },
  );

  it("ends a started stream with an in-band error when an event grows past maxEventChars", async () => {
    const { upstream, promise, ends } = start({ maxEventChars: 1_000 });
    upstream.write(chunk("a"));
    const out = await promise;
    const read = readAll(out);
    upstream.write(`data: {"choices":[{"index":0,"delta":{"content":"${"b".repeat(2_000)}`);
    const events = payloads(await read);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ error: { code: "upstream_too_large" } });
    expect(ends[0]?.error).toMatchObject({ status: 502, code: "upstream_too_large" });
  });

  it.each([
    ["comments", ": ping\n\n"],
    ["events", `${chunk("b")}`],
  ])("takes %s as signs of life, but not bytes that never end a line", async (_, life) => {
    const { upstream, promise, ends } = start({ idleMs: 150 });
    upstream.write(chunk("a"));
    const out = await promise;
    const read = readAll(out);
    for (let i = 0; i < 6; i++) {
      upstream.write(life);
      await sleep(50);
    }
    expect(ends).toHaveLength(0);
    upstream.write('data: {"choices":[{"index":0,"delta":{"content":"');
    for (let i = 0; i < 6; i++) {
      upstream.write("x");
      await sleep(50);
    }
    const events = payloads(await read);
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_timeout" } });
    expect(ends[0]?.error).toMatchObject({ status: 504, code: "upstream_timeout" });
  });

  it("rejects with a 502 when a usage-only chunk is all that came before the end", async () => {
    const { upstream, promise } = start();
    upstream.end(usageChunk);
    expect((await rejection(promise)).status).toBe(502);
  });

  it("rejects with the provider's error when it reports one before any chunk", async () => {
    const { upstream, promise } = start();
    upstream.write(`data: ${JSON.stringify({ error: { message: "overloaded", type: "server_error" } })}\n\n`);
    const err = await rejection(promise);
    expect(err).toMatchObject({ status: 502, code: "upstream_http_error" });
    expect(err.message).toContain("overloaded");
  });

  it("turns an upstream error event after the start into an in-band error", async () => {
    const { upstream, promise, ends } = start();
    upstream.write(chunk("a"));
    const out = await promise;
    const read = readAll(out);
    upstream.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const events = payloads(await read);
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_reset" } });
    expect(ends[0]?.error?.status).toBe(502);
  });

  it.each([
    [
      "a connection cut after `connection: close`",
      "Response does not match the HTTP/1.1 protocol (Invalid EOF state)",
    ],
    [
      "broken chunked framing",
      "Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)",
    ],
  ])("reports %s (an error without a code) as a reset, not as unreachable", async (_, message) => {
    const { upstream, promise } = start();
    upstream.write(chunk("a"));
    const read = readAll(await promise);
    upstream.destroy(Object.assign(new Error(message), { name: "HTTPParserError" }));
    expect(payloads(await read).at(-1)).toMatchObject({ error: { code: "upstream_reset" } });
  });

  it("waits for the first event beyond idleMs, then ends a silence past idleMs with a timeout", async () => {
    const { upstream, promise, ends } = start({ firstEventMs: 500, idleMs: 60 });
    await sleep(120);
    upstream.write(chunk("a"));
    const read = readAll(await promise);
    await sleep(30);
    upstream.write(chunk("b"));
    expect(payloads(await read).at(-1)).toMatchObject({ error: { code: "upstream_timeout" } });
    expect(ends[0]?.error?.message).toMatch(/silent/);
  });

  /** A started stream (idleMs 40) whose caller reads nothing: the upstream ends up paused behind it. */
  async function stalledByCaller() {
    const started = start({ idleMs: 40 });
    const big = chunk("x".repeat(4096));
    started.upstream.write(big);
    const out = await started.promise;
    while (started.upstream.write(big)) await sleep(0);
    await sleep(20);
    return { ...started, out };
  }

  it("counts no silence while it holds the upstream paused behind a caller who does not read", async () => {
    const { upstream, out, ends } = await stalledByCaller();
    expect(upstream.isPaused()).toBe(true);
    // Several idle periods pass with the provider waiting on us, not the other way round.
    await sleep(200);
    const read = readAll(out);
    await sleep(10);
    upstream.end(chunk("", "stop") + DONE);
    expect(payloads(await read).at(-1)).toBe("[DONE]");
    expect(ends[0]?.error).toBeUndefined();
  });

  it("says the caller stalled it when the call's time runs out while it waits on a caller who does not read", async () => {
    const { upstream, out, ends } = await stalledByCaller();
    // The call's total timer aborts the body (upstream-call.ts).
    upstream.destroy(Object.assign(new Error("total timeout"), { name: "AbortError" }));
    await new Promise((resolve) => upstream.on("close", resolve));
    expect(ends[0]).toMatchObject({ callerStalled: true });
    expect(ends[0]?.error).toBeDefined();
    out.destroy();
  });

  it("sends an in-band error when the upstream is closed without end or error after the start", async () => {
    const { upstream, promise, ends } = start({ keepAliveMs: 20 });
    upstream.write(chunk("a"));
    const out = await promise;
    const read = readAll(out);
    upstream.destroy();
    expect(payloads(await read).at(-1)).toMatchObject({ error: { code: "upstream_reset" } });
    expect(ends).toHaveLength(1);
  });

  it("rejects with a 502 at once when the upstream is closed before any event", async () => {
    const { upstream, promise } = start();
    upstream.destroy();
    expect(await rejection(promise)).toMatchObject({ status: 502, code: "upstream_reset" });
  });

  it("rejects with a 504 when no event arrives within firstEventMs", async () => {
    const { upstream, promise, ends } = start({ firstEventMs: 30 });
    const err = await rejection(promise);
    expect(err).toMatchObject({ status: 504, type: "timeout_error", code: "upstream_timeout" });
    expect(upstream.destroyed).toBe(true);
    expect(ends[0]?.error).toBe(err);
  });

  it("sends `: keep-alive` after keepAliveMs of silence once started, and not before", async () => {
    const { upstream, promise } = start({ keepAliveMs: 25 });
    await sleep(60);
    upstream.write(chunk("a"));
    const out = await promise;
    const seen: string[] = [];
    out.on("data", (d) => seen.push(String(d)));
    await sleep(70);
    upstream.end(chunk("", "stop") + DONE);
    await once(out, "end");
    expect(seen[0]).toMatch(/^data: \{/);
    expect(seen).toContain(": keep-alive\n\n");
    expect(seen.at(-1)).toBe(DONE);
  });

  it("adds no keep-alive behind bytes a caller has not read: a stalled reader's buffer stays put", async () => {
    const { upstream, promise } = start({ keepAliveMs: 10 });
    upstream.write(chunk("a"));
    const out = await promise;
    // Nobody reads: the first chunk waits in the buffer, and silence must not add comments behind it.
    const buffered = out.readableLength;
    expect(buffered).toBeGreaterThan(0);
    await sleep(60);
    expect(out.readableLength).toBe(buffered);
    upstream.end(DONE);
    const events = await readAll(out);
    expect(events).not.toContain(": keep-alive\n\n");
  });

  it("destroys the upstream and reports clientClosed when the caller goes away", async () => {
    const { upstream, promise, ends } = start();
    upstream.write(chunk("a"));
    const out = await promise;
    out.destroy();
    await once(upstream, "close");
    expect(upstream.destroyed).toBe(true);
    expect(ends).toEqual([CALLER_LEFT]);
  });

  it("pauses the upstream while the caller does not read, and resumes when it does", async () => {
    const { upstream, promise, ends } = start({ includeUsage: true });
    const big = chunk("x".repeat(4096));
    upstream.write(big);
    const out = await promise;
    let writes = 0;
    while (upstream.write(big) && writes < 1_000) writes++;
    await sleep(20);
    expect(upstream.isPaused()).toBe(true);
    expect(out.readableLength).toBeLessThan(out.readableHighWaterMark + 2 * big.length);
    upstream.end(chunk("", "stop") + DONE);
    const events = await readAll(out);
    expect(events).toHaveLength(writes + 4);
    expect(ends[0]?.error).toBeUndefined();
  });
});

describe("translateStream's commit point: the first chunk with content", () => {
  it("holds a role-only opener back and sends it with the first content", async () => {
    const { upstream, promise } = start();
    upstream.write(opener);
    expect(await settled(promise)).toBe(false);
    upstream.write(chunk("Hi"));
    const out = await promise;
    upstream.end(chunk("", "stop") + DONE);
    expect(payloads(await readAll(out))).toMatchObject([
      { choices: [{ delta: { role: "assistant", content: "" } }] },
      { choices: [{ delta: { content: "Hi" } }] },
      { choices: [{ finish_reason: "stop" }] },
      "[DONE]",
    ]);
  });

  it("rejects, so routing can retry or fall back, on an error event after a role-only opener", async () => {
    const { upstream, promise, ends } = start();
    upstream.write(opener);
    upstream.write(errorEvent);
    const err = await rejection(promise);
    expect(err).toMatchObject({ status: 502, code: "upstream_http_error" });
    expect(err.message).toMatch(/reported an error before any content: overloaded/);
    expect(ends[0]?.firstChunkAt).toBeUndefined();
  });

  it("rejects on Anthropic's overload right after message_start, the way Anthropic streams it", async () => {
    const anthropic = (type: string, payload: object) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    const { upstream, promise } = start({ adapter: chatAdapters.anthropic });
    upstream.write(
      anthropic("message_start", {
        message: { id: "msg_1", model: "claude", usage: { input_tokens: 5, output_tokens: 1 } },
      }),
    );
    upstream.write(anthropic("error", { error: { type: "overloaded_error", message: "Overloaded" } }));
    expect(await rejection(promise)).toMatchObject({ status: 502, code: "upstream_http_error" });
  });

  it("masks the request's credential in an error event before its message is cut to length", async () => {
    const anthropic = (type: string, payload: object) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    const key = "sk-ant-api03-secret-0123456789";
    const { upstream, promise } = start({
      adapter: chatAdapters.anthropic,
      requestHeaders: { "x-api-key": key },
    });
    upstream.write(
      anthropic("message_start", {
        message: { id: "msg_1", model: "claude", usage: { input_tokens: 5, output_tokens: 1 } },
      }),
    );
    // The key straddles the 2 000-character cut of a 4xx message.
    const message = `${"x".repeat(1990)} ${key}`;
    upstream.write(anthropic("error", { error: { type: "invalid_request_error", message } }));
    const err = await rejection(promise);
    expect(err.status).toBe(400);
    expect(err.message).not.toMatch(/sk-an/);
  });

  it("rejects a stream cut after its opener as truncated, not as one without any event", async () => {
    const { upstream, promise } = start();
    upstream.end(opener);
    const err = await rejection(promise);
    expect(err.code).toBe("upstream_truncated");
    expect(err.message).toMatch(/before the response was complete/);
  });

  it("delivers a complete answer that never had content (a finish reason only) at its end", async () => {
    const { upstream, promise, ends } = start();
    upstream.end(opener + chunk("", "length") + DONE);
    const events = payloads(await readAll(await promise));
    expect(events).toMatchObject([
      { choices: [{ delta: { role: "assistant" } }] },
      { choices: [{ finish_reason: "length" }] },
      "[DONE]",
    ]);
    expect(ends[0]).toMatchObject({ error: undefined, firstChunkAt: 42 });
  });

  it("takes the first chunk with content as the time to first token", async () => {
    let clock = 0;
    const { upstream, promise, ends } = start({ now: () => clock });
    clock = 10;
    upstream.write(opener);
    await settled(promise);
    clock = 250;
    upstream.end(chunk("Hi", "stop") + DONE);
    await readAll(await promise);
    expect(ends[0]?.firstChunkAt).toBe(250);
  });

  it("counts a held opener as the first event: the first-event timeout does not fire behind it", async () => {
    const { upstream, promise } = start({ firstEventMs: 30 });
    upstream.write(opener);
    await sleep(60);
    expect(await settled(promise)).toBe(false);
    upstream.end(chunk("late", "stop") + DONE);
    expect(payloads(await readAll(await promise))[1]).toMatchObject({
      choices: [{ delta: { content: "late" } }],
    });
  });

  it("holds no longer than keepAliveMs: a silent think starts the response, and keep-alives follow", async () => {
    const { upstream, promise } = start({ keepAliveMs: 25 });
    upstream.write(opener);
    const out = await promise;
    const seen: string[] = [];
    out.on("data", (d) => seen.push(String(d)));
    await sleep(70);
    upstream.end(chunk("done", "stop") + DONE);
    await once(out, "end");
    expect(seen[0]).toMatch(/"role":"assistant"/);
    expect(seen).toContain(": keep-alive\n\n");
    expect(seen.at(-1)).toBe(DONE);
  });

  it("shows held chunks to onChunk only when they are sent, never for an attempt that failed", async () => {
    const seen: ChatCompletionChunk[] = [];
    const { upstream, promise } = start({ onChunk: (c) => seen.push(c) });
    upstream.write(opener);
    upstream.write(errorEvent);
    await rejection(promise);
    expect(seen).toEqual([]);
  });
});

describe("translateStream when the caller disconnects (callerGone)", () => {
  it("reports clientClosed, not a provider failure, when the caller's abort cut the upstream after the start", async () => {
    const caller = new AbortController();
    const { upstream, promise, ends } = start({ callerGone: caller.signal });
    upstream.write(chunk("a"));
    const out = await promise;
    const read = readAll(out);
    caller.abort();
    upstream.destroy(Object.assign(new Error("aborted"), { code: "UND_ERR_ABORTED" }));
    const events = await read;
    expect(events.join("")).not.toContain('"error"');
    expect(ends).toEqual([CALLER_LEFT]);
  });

  it("rejects before the start, leaving the verdict to the attempt loop", async () => {
    const caller = new AbortController();
    const { upstream, promise, ends } = start({ callerGone: caller.signal });
    upstream.write(opener);
    caller.abort();
    upstream.destroy(Object.assign(new Error("aborted"), { code: "UND_ERR_ABORTED" }));
    await rejection(promise);
    expect(ends[0]).toMatchObject({ error: undefined, clientClosed: true, firstChunkAt: undefined });
  });
});

describe("translateStream over the Gemini adapter", () => {
  const GEMINI_META = { ...META, model: "gemini-2.5-pro", provider: "ge" };
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\r\n\r\n`;
  const gemini = () =>
    start({ adapter: chatAdapters.gemini as TranslateOptions["adapter"], meta: GEMINI_META, provider: "ge" });

  it.each([
    [
      "its finishing chunk counted the prompt alone",
      [{ promptTokenCount: 1000, totalTokenCount: 1000 }],
      true,
    ],
    [
      "its finishing chunk counted the output",
      [{ promptTokenCount: 1000, candidatesTokenCount: 40, totalTokenCount: 1040 }],
      false,
    ],
    [
      "the count came in a chunk of its own after the finish",
      [
        { promptTokenCount: 1000, totalTokenCount: 1000 },
        { promptTokenCount: 1000, candidatesTokenCount: 40, totalTokenCount: 1040 },
      ],
      false,
    ],
  ])("ends a stream broken after its finish reason as cut short (or not) when %s", async (_, counts, cut) => {
    const { upstream, ends, promise } = gemini();
    const [first, ...later] = counts;
    upstream.write(
      ev({
        candidates: [
          { index: 0, content: { role: "model", parts: [{ text: "a long answer" }] }, finishReason: "STOP" },
        ],
        usageMetadata: first,
      }),
    );
    for (const usageMetadata of later) upstream.write(ev({ usageMetadata }));
    const out = await promise;
    setTimeout(
      () => upstream.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })),
      20,
    );
    await readAll(out);
    expect(ends).toHaveLength(1);
    expect({ cut: ends[0]!.error !== undefined, usageFinal: ends[0]!.usageFinal }).toEqual({
      cut,
      usageFinal: !cut,
    });
  });

  it.each([
    ["carries no count of its own: the attempt costs its worst case", undefined, undefined],
    [
      "carries its own count: the attempt is priced from it",
      { promptTokenCount: 1000, candidatesTokenCount: 40, totalTokenCount: 1040 },
      { prompt_tokens: 1000, completion_tokens: 40 },
    ],
  ])(
    "prices a failed call before any content from the chunk that ends it only if it %s",
    async (_, own, billed) => {
      const { upstream, promise } = gemini();
      // A running count on a chunk with nothing for the caller (a thought summary): not the call's bill.
      upstream.write(
        ev({
          candidates: [
            { index: 0, content: { role: "model", parts: [{ text: "planning", thought: true }] } },
          ],
          usageMetadata: { promptTokenCount: 1000, totalTokenCount: 1000 },
        }),
      );
      upstream.end(
        ev({
          candidates: [{ index: 0, finishReason: "MALFORMED_FUNCTION_CALL", finishMessage: "bad call" }],
          ...(own ? { usageMetadata: own } : {}),
        }),
      );
      const err = await rejection(promise);
      expect(err.code).toBe("upstream_malformed");
      if (billed === undefined) expect(err.billedUsage).toBeUndefined();
      else expect(err.billedUsage).toMatchObject(billed);
    },
  );
});
