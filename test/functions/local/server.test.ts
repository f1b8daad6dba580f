import { connect } from "node:net";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { callerSignal } from "../../../core/gateway/caller-signal.ts";
import { answerClientError } from "../../../functions/local/http-edges.ts";
import {
  PRELUDE_CONTENT_TYPE,
  PRELUDE_DELIMITER,
  type ResponseStream,
  type StreamingHandler,
} from "../../../functions/local/lambda-runtime.ts";
import { type LocalServer, startLocalServer } from "../../../functions/local/server.ts";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A handler that shows the caller signal registered for its request, then runs `body`. */
function spyHandler(body: (signal: AbortSignal, stream: Parameters<StreamingHandler>[1]) => Promise<void>) {
  const seen: { requestId?: string; signal?: AbortSignal; finished?: boolean } = {};
  const handler: StreamingHandler = async (event, stream) => {
    seen.requestId = (event as APIGatewayProxyEvent).requestContext.requestId;
    seen.signal = callerSignal(seen.requestId);
    await body(seen.signal!, stream);
    seen.finished = true;
  };
  return { handler, seen };
}

/** Opens a response the way the Lambda runtime does: JSON prelude, 8 NUL bytes; the body follows. */
function framed(stream: Parameters<StreamingHandler>[1], statusCode: number): ResponseStream {
  const s = stream as ResponseStream;
  s.setContentType(PRELUDE_CONTENT_TYPE);
  s.write(JSON.stringify({ statusCode }));
  s.write(PRELUDE_DELIMITER);
  return s;
}

/** Sends a request and leaves once its handler is running, as a caller that gives up does. */
async function leaveDuring(url: string, seen: { signal?: AbortSignal }): Promise<void> {
  const client = new AbortController();
  const request = fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{}", signal: client.signal });
  await expect.poll(() => seen.signal).toBeDefined();
  client.abort();
  await expect(request).rejects.toThrow();
}

const serve = async (handler: StreamingHandler) => {
  server = await startLocalServer({ handler, host: "127.0.0.1", port: 0, maxBodyBytes: 1024 });
  return server.url;
};

describe("a host that listens before its handlers are built (`ready`)", () => {
  const answering: StreamingHandler = async (_event, stream) => {
    const s = framed(stream, 200);
    await new Promise<void>((resolve) => s.end("served", () => resolve()));
  };

  /** A server listening before it is ready; its `ready` settles as the returned functions say. */
  async function listeningFirst(handler: StreamingHandler) {
    let settle!: { ready: () => void; fail: (err: Error) => void };
    const ready = new Promise<void>((resolve, reject) => {
      settle = { ready: resolve, fail: reject };
    });
    ready.catch(() => undefined);
    server = await startLocalServer({ handler, host: "127.0.0.1", port: 0, maxBodyBytes: 1024, ready });
    return settle;
  }

  it("holds the requests that come first, and serves them once it is ready", async () => {
    const { ready } = await listeningFirst(answering);
    const early = fetch(`${server!.url}/v1/models`).then(async (r) => [r.status, await r.text()]);
    await sleep(50);
    ready();
    expect(await early).toEqual([200, "served"]);
  });

  it("forgets a caller who left while it waited: no handler runs for it, and a stop does not wait for it", async () => {
    let called = false;
    const { ready } = await listeningFirst(async () => {
      called = true;
    });
    const leaving = new AbortController();
    const request = fetch(`${server!.url}/v1/chat/completions`, {
      method: "POST",
      body: "{}",
      signal: leaving.signal,
    });
    await sleep(50);
    leaving.abort();
    await expect(request).rejects.toThrow();
    await sleep(50);
    ready();
    await sleep(20);
    const started = performance.now();
    await server!.close();
    server = undefined;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(called).toBe(false);
  });

  it("answers the waiting requests 500 when the start fails, and calls no handler", async () => {
    let called = false;
    const { fail } = await listeningFirst(async () => {
      called = true;
    });
    const early = fetch(`${server!.url}/v1/models`);
    await sleep(50);
    fail(new Error("the config was refused"));
    const res = await early;
    expect(res.status).toBe(500);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toMatchObject({ error: { code: "internal_error" } });
    expect(called).toBe(false);
  });
});

describe("the portable host's view of the caller's connection", () => {
  it("aborts the request's caller signal when the caller disconnects before the response", async () => {
    const { handler, seen } = spyHandler(async (signal) => {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
    });
    await leaveDuring(await serve(handler), seen);
    await expect.poll(() => seen.finished).toBe(true);
    expect(seen.signal?.aborted).toBe(true);
  });

  it("leaves the signal alone for a response that completed, and forgets it afterwards", async () => {
    const { handler, seen } = spyHandler(async (_signal, stream) => {
      const s = framed(stream, 200);
      await new Promise<void>((resolve) => s.end("ok", () => resolve()));
    });
    const url = await serve(handler);
    const res = await fetch(`${url}/healthz`);
    expect(await res.text()).toBe("ok");
    await sleep(20);
    expect(seen.signal?.aborted).toBe(false);
    expect(callerSignal(seen.requestId!)).toBeUndefined();
  });
});

describe("the portable host's bytes from a handler that sends no HTTP prelude", () => {
  it("sends them as they are with status 200 and the handler's content type, as Lambda does", async () => {
    const url = await serve(async (_event, stream) => {
      (stream as ResponseStream).setContentType("text/plain");
      stream.write("plain ");
      await new Promise<void>((resolve) => stream.end("bytes", () => resolve()));
    });
    const res = await fetch(`${url}/anything`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe("plain bytes");
  });
});

describe("the portable host's response body", () => {
  it.each([
    ["ended with a last chunk", async (stream: ResponseStream) => void stream.end("bytes")],
    [
      "written, then ended, in one tick",
      async (stream: ResponseStream) => {
        stream.write("bytes");
        stream.end();
      },
    ],
  ])(
    "keeps every chunk of a body %s (Node 24 drops writes ended while the head is corked)",
    async (_, finish) => {
      const url = await serve(async (_event, stream) => {
        const s = framed(stream, 200);
        s.write("plain ");
        await finish(s);
      });
      const res = await fetch(`${url}/anything`);
      expect(await res.text()).toBe("plain bytes");
    },
  );
});

describe("the portable host after the caller has gone", () => {
  it("lets the handler write and end its response, so it returns (middy awaits the end's callback)", async () => {
    const { handler, seen } = spyHandler(async (signal, stream) => {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
      // What middy does with a string body: write it, then wait for end's callback or an error.
      const s = framed(stream, 499);
      s.write('{"error":{}}');
      await new Promise((resolve, reject) => {
        s.once("error", reject);
        s.end(resolve);
      });
    });
    await leaveDuring(await serve(handler), seen);
    await expect.poll(() => seen.finished, { timeout: 1_000 }).toBe(true);
  });
});

/** A host that cuts a response's connection after 200 ms without a byte leaving. */
const serveWatched = (handler: StreamingHandler) =>
  startLocalServer({ handler, host: "127.0.0.1", port: 0, maxBodyBytes: 1024, flushStallMs: 200 });

/** Sends `raw` on a fresh connection to `port` and reads nothing back. */
function sendAndNeverRead(port: number, raw: string) {
  const socket = connect(port, "127.0.0.1", () => socket.write(raw));
  socket.pause();
  socket.on("error", () => {});
  return socket;
}

describe("the portable host and a caller that stops reading", () => {
  it("cuts the connection once nothing of the ended response has left for a while, and the handler returns", async () => {
    const { handler, seen } = spyHandler(async (_signal, stream) => {
      const s = framed(stream, 200);
      // Far more than the kernel's buffers on both sides take: the rest waits in the process.
      s.write(Buffer.alloc(64 * 1024 * 1024, 97));
      await new Promise((resolve) => s.end(resolve));
    });
    server = await serveWatched(handler);
    const socket = sendAndNeverRead(server.port, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    await expect.poll(() => seen.finished, { timeout: 3_000 }).toBe(true);
    // Cut with a reset, so that no kernel keeps the unsent bytes: reading now gets no whole body, and
    // the connection ends in ECONNRESET rather than an orderly end.
    let got = 0;
    let error: string | undefined;
    socket.on("data", (d: Buffer) => {
      got += d.length;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code;
    });
    socket.resume();
    await new Promise((resolve) => socket.once("close", resolve));
    expect(got).toBeLessThan(64 * 1024 * 1024);
    expect(error).toBe("ECONNRESET");
  });

  it("cuts it too when the answer waited for the connection behind a pipelined one", async () => {
    const finished: string[] = [];
    const handler: StreamingHandler = async (event, stream) => {
      const path = (event as APIGatewayProxyEvent).path;
      if (path === "/slow") await sleep(200);
      const s = framed(stream, 200);
      s.write(path === "/big" ? Buffer.alloc(32 * 1024 * 1024, 97) : "small");
      await new Promise((resolve) => s.end(resolve));
      finished.push(path);
    };
    server = await serveWatched(handler);
    sendAndNeverRead(
      server.port,
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    await expect.poll(() => finished.includes("/big"), { timeout: 3_000 }).toBe(true);
  });

  it("keeps the connection of a caller that reads slowly, as long as bytes leave", async () => {
    const size = 16 * 1024 * 1024;
    const { handler, seen } = spyHandler(async (_signal, stream) => {
      const s = framed(stream, 200);
      s.write(Buffer.alloc(size, 97));
      await new Promise((resolve) => s.end(resolve));
    });
    server = await serveWatched(handler);
    let got = 0;
    const socket = connect(server.port, "127.0.0.1", () =>
      socket.write("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    // Reads in bursts with pauses shorter than the stall time, so the whole body takes about a second.
    socket.on("data", (d: Buffer) => {
      got += d.length;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    });
    await new Promise((resolve) => socket.once("end", resolve));
    expect(got).toBeGreaterThan(size);
    expect(seen.finished).toBe(true);
  });
});

describe("the portable host and a caller that ends its side of the connection after its request", () => {
  it("takes it for gone, as Node's server does: the handler is told before it answers, and nothing is sent", async () => {
    const signals: boolean[] = [];
    const { handler, seen } = spyHandler(async (signal, stream) => {
      signals.push(signal.aborted);
      // An answer ready a little after the caller's FIN was read: Node ends the connection on that FIN.
      await sleep(50);
      signals.push(signal.aborted);
      const s = framed(stream, 200);
      await new Promise<void>((resolve) => s.end("answer", () => resolve()));
    });
    const url = await serve(handler);
    const got = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(url).port), "127.0.0.1", () =>
        socket.end("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"),
      );
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", () => {});
    });
    await expect.poll(() => seen.finished).toBe(true);
    // Nothing reached the caller, and the handler was told so before it answered.
    expect(got).toBe("");
    expect(signals.at(-1)).toBe(true);
  });
});

describe("the portable host's answer to a handler that fails its response", () => {
  it("answers 500 in the API's envelope when the head it framed has a value Node refuses", async () => {
    const url = await serve(async (_event, stream) => {
      const s = stream as ResponseStream;
      s.setContentType(PRELUDE_CONTENT_TYPE);
      s.write(JSON.stringify({ statusCode: 200, headers: { "x-gateway-model": "a\u2603" } }));
      s.write(PRELUDE_DELIMITER);
      // As middy's end does: its callback comes, with the stream's error, and the handler returns.
      await new Promise<void>((resolve) => s.end("body", () => resolve()));
    });
    const res = await fetch(`${url}/x`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal_error");
  });
});

describe("the portable host's stop", () => {
  it("lets a request in flight finish, and takes no new connection meanwhile", async () => {
    const url = await serve(async (_event, stream) => {
      const s = framed(stream, 200);
      s.write("slow ");
      await sleep(200);
      await new Promise<void>((resolve) => s.end("answer", () => resolve()));
    });
    const inFlight = fetch(`${url}/slow`).then((r) => r.text());
    await sleep(50);
    const stopped = server!.close();
    server = undefined;
    await expect(fetch(`${url}/late`)).rejects.toThrow();
    expect(await inFlight).toBe("slow answer");
    await stopped;
  });

  it("tells a keep-alive caller to close the connection on the responses it answers while stopping", async () => {
    const url = await serve(async (_event, stream) => {
      await sleep(100);
      await new Promise<void>((resolve) => framed(stream, 200).end("answer", () => resolve()));
    });
    const inFlight = fetch(`${url}/slow`);
    await sleep(30);
    const stopped = server!.close();
    server = undefined;
    const res = await inFlight;
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.text()).toBe("answer");
    await stopped;
  });

  it("cuts a request still in flight at the deadline, and returns once its handler has wound up", async () => {
    const { handler, seen } = spyHandler(async (signal) => {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
      // What the router does for a caller gone: abort upstream, then log and account the request.
      await sleep(150);
    });
    server = await startLocalServer({
      handler,
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 1024,
      drainMs: 100,
    });
    const hung = fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    await expect.poll(() => seen.signal).toBeDefined();
    const stopped = server.close();
    server = undefined;
    await expect(hung).rejects.toThrow();
    await stopped;
    expect(seen.finished).toBe(true);
  });
});

/** Sends `raw` bytes on a fresh connection and resolves with everything the server answered. */
function rawExchange(url: string, raw: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(raw));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
    });
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
  });
}

describe("the portable host's answer to a caller too slow to send its request", () => {
  it("is 408 in the API's error envelope, as Node's own answer would be", async () => {
    const socket = new PassThrough();
    const timeout = Object.assign(new Error("Request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" });
    answerClientError(timeout, socket);
    const answer = (await socket.toArray()).join("");
    expect(answer).toMatch(/^HTTP\/1.1 408 Request Timeout\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error).toMatchObject({
      code: "request_timeout",
    });
  });
});

describe("the portable host's answers to what is not a request", () => {
  it.each([
    ["malformed HTTP", "GARBAGE\r\n\r\n", "400", "malformed_request"],
    [
      "headers past Node's limit",
      `GET /healthz HTTP/1.1\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
      "431",
      "headers_too_large",
    ],
    [
      "an HTTP/1.1 request without Host",
      "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
      "400",
      "malformed_request",
    ],
    [
      "an HTTP/1.1 request with two Host lines",
      "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
      "400",
      "malformed_request",
    ],
    [
      "an expectation other than 100-continue",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nConnection: close\r\n\r\n",
      "417",
      "expectation_failed",
    ],
  ])("answers %s in the API's error envelope", async (_, raw, status, code) => {
    const url = await serve(async (_event, stream) => {
      await new Promise<void>((resolve) => framed(stream, 200).end("ok", () => resolve()));
    });
    const answer = await rawExchange(url, raw);
    expect(answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(answer).toContain("content-type: application/json");
    // A UUIDv7, as every other response's.
    expect(answer).toMatch(
      /\r\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n/,
    );
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error).toMatchObject({ code });
  });

  it("serves an HTTP/1.0 request without Host, which that version does not require", async () => {
    const url = await serve(async (_event, stream) => {
      await new Promise<void>((resolve) => framed(stream, 200).end("ok", () => resolve()));
    });
    const answer = await rawExchange(url, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1.1 200 /);
    expect(answer.endsWith("ok")).toBe(true);
  });
});

describe("the portable host's reading of a body over the limit", () => {
  it("answers a body declared over the limit without reading it, and without inviting it", async () => {
    let seen = 0;
    const url = await serve(async (event, stream) => {
      seen = Buffer.byteLength((event as APIGatewayProxyEvent).body ?? "");
      await new Promise<void>((resolve) => framed(stream, 413).end("too large", () => resolve()));
    });
    const answer = await rawExchange(
      url,
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999\r\nexpect: 100-continue\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1.1 413 /);
    expect(answer).not.toContain("100 Continue");
    expect(seen).toBe(1025);
  });

  it("stops reading past the limit, lets the handler answer, and closes the connection", async () => {
    let seen = 0;
    const url = await serve(async (event, stream) => {
      seen = Buffer.byteLength((event as APIGatewayProxyEvent).body ?? "");
      const s = framed(stream, 413);
      await new Promise<void>((resolve) => s.end("too large", () => resolve()));
    });
    // A body that never ends: only stopping at the limit lets the answer come.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: endless,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(seen).toBe(1025);
  });
});
