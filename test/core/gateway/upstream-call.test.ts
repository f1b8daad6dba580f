import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { callerSignal, watchCaller } from "../../../core/gateway/caller-signal.ts";
import { callUpstream, streamable } from "../../../core/gateway/upstream-call.ts";
import type { Endpoint, Transport } from "../../../core/providers/transport.ts";
import { DEFAULT_TIMEOUTS } from "../../../core/routing/resolve.ts";

const ENDPOINT: Endpoint = {
  providerId: "p",
  kind: "openai",
  baseUrl: "http://127.0.0.1:1",
  timeouts: { ...DEFAULT_TIMEOUTS, firstByteMs: 60_000 },
};
const REQUEST = { path: "/chat/completions", headers: {}, body: "{}" };

/** A provider that answers only when told to, and shows the signal the call was sent with. */
function slowTransport() {
  const seen: AbortSignal[] = [];
  const transport: Transport = {
    send: (_endpoint, _request, signal) =>
      new Promise((resolve, reject) => {
        seen.push(signal);
        // As undici does: an already aborted signal fails the request at once.
        if (signal.aborted) return reject(new Error("aborted"));
        signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        setTimeout(() => resolve({ status: 200, headers: {}, body: new PassThrough() }), 50);
      }),
  };
  return { transport, seen };
}

describe("callUpstream with the caller's signal", () => {
  it("aborts the call in flight when the caller disconnects", async () => {
    const { transport, seen } = slowTransport();
    const caller = new AbortController();
    const call = callUpstream(transport, ENDPOINT, REQUEST, caller.signal);
    caller.abort();
    await expect(call).rejects.toBeDefined();
    expect(seen[0]?.aborted).toBe(true);
  });

  it("does not report the provider unreachable when the caller is the one who left", async () => {
    const { transport } = slowTransport();
    const caller = new AbortController();
    const reported: unknown[] = [];
    const call = callUpstream(transport, ENDPOINT, REQUEST, caller.signal, (f) => reported.push(f));
    caller.abort();
    await expect(call).rejects.toBeDefined();
    expect(reported).toEqual([]);
  });

  it("reports a provider that cannot be reached", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const transport: Transport = { send: () => Promise.reject(refused) };
    const reported: Array<{ failure: string }> = [];
    await expect(
      callUpstream(transport, ENDPOINT, REQUEST, undefined, (f) => reported.push(f)),
    ).rejects.toBeDefined();
    expect(reported).toMatchObject([{ failure: "unreachable" }]);
  });

  it("sends nothing live when the caller had already gone", async () => {
    const { transport, seen } = slowTransport();
    const caller = new AbortController();
    caller.abort();
    await expect(callUpstream(transport, ENDPOINT, REQUEST, caller.signal)).rejects.toBeDefined();
    expect(seen[0]?.aborted).toBe(true);
  });

  it("lets the answered call alone once done: a later disconnect is the stream's to handle", async () => {
    const { transport, seen } = slowTransport();
    const caller = new AbortController();
    const call = await callUpstream(transport, ENDPOINT, REQUEST, caller.signal);
    call.done();
    caller.abort();
    expect(seen[0]?.aborted).toBe(false);
  });

  it("aborts the body of an answered call that is still being read", async () => {
    const { transport, seen } = slowTransport();
    const caller = new AbortController();
    const call = await callUpstream(transport, ENDPOINT, REQUEST, caller.signal);
    caller.abort();
    expect(seen[0]?.aborted).toBe(true);
    call.done();
  });
});

describe("callUpstream with a provider's error", () => {
  const answering = (status: number, body: string): Transport => ({
    send: async () => {
      const stream = new PassThrough();
      stream.end(body);
      return { status, headers: {}, body: stream };
    },
  });

  it.each([
    [400, 400, "upstream_invalid_request"],
    [503, 502, "upstream_http_error"],
  ])("keeps the meaning of a %d whose body is too big to read (%d %s)", async (status, out, code) => {
    const huge = JSON.stringify({ error: { message: "x".repeat(100_000) } });
    const err = await callUpstream(answering(status, huge), ENDPOINT, REQUEST).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: out, code });
  });
});

describe("streamable", () => {
  it.each([
    ["an event stream", "text/event-stream; charset=utf-8", true],
    ["no content type", undefined, true],
    ["a loose label some servers use", "text/plain", true],
    ["one JSON document", "application/json", false],
    ["JSON with a charset, in capitals", "Application/JSON; charset=utf-8", false],
    ["a JSON problem document", "application/problem+json", false],
    ["a captive proxy's page", "text/html; charset=utf-8", false],
    ["a repeated header", ["application/json", "text/event-stream"], false],
  ])("takes %s for a stream: %s", (_what, type, want) => {
    expect(streamable(type)).toBe(want);
  });
});

describe("the caller registry", () => {
  it("finds the signal a host registered for a request id, until it is forgotten", () => {
    const signal = new AbortController().signal;
    const forget = watchCaller("req-a", signal);
    expect(callerSignal("req-a")).toBe(signal);
    forget();
    expect(callerSignal("req-a")).toBeUndefined();
  });

  it("knows no signal where the host registers none (Lambda)", () => {
    expect(callerSignal("never-registered")).toBeUndefined();
  });

  it("does not forget a newer registration under the same id", () => {
    const first = new AbortController().signal;
    const second = new AbortController().signal;
    const forgetFirst = watchCaller("req-b", first);
    const forgetSecond = watchCaller("req-b", second);
    forgetFirst();
    expect(callerSignal("req-b")).toBe(second);
    forgetSecond();
  });
});

describe("callUpstream with a provider that echoes the request's credential", () => {
  it.each([
    ["authorization", "Bearer sk-provider-secret-123"],
    ["x-api-key", "sk-ant-provider-secret-123"],
    ["x-goog-api-key", "AIzaProviderSecret123"],
  ])("masks the %s value in the message the caller gets", async (header, value) => {
    const secret = value.replace("Bearer ", "");
    const transport: Transport = {
      send: async () => {
        const body = new PassThrough();
        body.end(JSON.stringify({ error: { message: `bad request; you sent ${header}: ${value}` } }));
        return { status: 400, headers: {}, body };
      },
    };
    const request = { ...REQUEST, headers: { [header]: value } };
    const err = await callUpstream(transport, ENDPOINT, request, undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400 });
    expect((err as Error).message).not.toContain(secret);
    expect((err as Error).message).toContain("[REDACTED]");
  });

  it.each([
    ["in the parameter it names", { message: "bad", param: "Bearer sk-provider-secret-123" }, "param"],
    [
      "across the message's cut at 2 000 characters",
      { message: `${"x".repeat(1990)}sk-provider-secret-123` },
      "message",
    ],
  ])("masks it %s", async (_, error, field) => {
    const transport: Transport = {
      send: async () => {
        const body = new PassThrough();
        body.end(JSON.stringify({ error }));
        return { status: 400, headers: {}, body };
      },
    };
    const request = { ...REQUEST, headers: { authorization: "Bearer sk-provider-secret-123" } };
    const err = (await callUpstream(transport, ENDPOINT, request, undefined).catch(
      (e: unknown) => e,
    )) as Record<string, string>;
    expect(err[field]).not.toMatch(/sk-provid/);
  });

  it("masks it when the provider's JSON writes it with escapes", async () => {
    const secret = "sk-provider-secret-123";
    // `\u0073k-…` in the JSON text is `sk-…` once read.
    const escaped = secret.replace("s", "\\u0073");
    const transport: Transport = {
      send: async () => {
        const body = new PassThrough();
        body.end(`{"error":{"message":"bad key ${escaped}"}}`);
        return { status: 400, headers: {}, body };
      },
    };
    const request = { ...REQUEST, headers: { authorization: `Bearer ${secret}` } };
    const err = await callUpstream(transport, ENDPOINT, request, undefined).catch((e: unknown) => e);
    expect((err as Error).message).toBe("bad key [REDACTED]");
  });

  it("masks it in the parameter when the provider's JSON writes it with escapes", async () => {
    const escaped = "sk-provider-secret-123".replace("s", "\\u0073");
    const transport: Transport = {
      send: async () => {
        const body = new PassThrough();
        body.end(`{"error":{"message":"bad","param":"p-${escaped}"}}`);
        return { status: 400, headers: {}, body };
      },
    };
    const request = { ...REQUEST, headers: { authorization: "Bearer sk-provider-secret-123" } };
    const err = await callUpstream(transport, ENDPOINT, request, undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ param: "p-[REDACTED]" });
  });
});
