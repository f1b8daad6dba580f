import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../core/config/defaults.ts";
import type { GatewayEvent } from "../../core/events/port.ts";
import { sha256Hex } from "../../core/keys/secret.ts";
import { silentLog } from "../../core/log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { buildPortableDeps, type PortableDeps } from "../../functions/local/deps.ts";
import {
  installLambdaRuntime,
  isStreaming,
  PRELUDE_CONTENT_TYPE,
} from "../../functions/local/lambda-runtime.ts";
import { createRouterHandler } from "../../functions/router.ts";
import { CollectingStream, KEY, restEvent, unframe } from "./lambda-stream.ts";

let wired: PortableDeps;
let handler: (event: unknown, stream: Writable, context: unknown) => Promise<void>;
beforeAll(async () => {
  installLambdaRuntime();
  wired = await buildPortableDeps({
    config: DEFAULT_CONFIG,
    env: { GATEWAY_API_KEY: KEY },
    db: openDatabase(":memory:"),
    dataDir: mkdtempSync(join(tmpdir(), "gw-router-")),
    log: silentLog,
  });
  const h = createRouterHandler(wired.deps);
  if (!isStreaming(h)) throw new Error("not a streaming handler");
  handler = h;
});
afterAll(() => wired.close());

describe("the router Lambda handler invoked as Lambda invokes a streaming REST integration", () => {
  it("is marked as a response-streaming handler", () => {
    expect(isStreaming(handler)).toBe(true);
  });

  it("writes the JSON prelude, 8 NUL bytes, then the JSON body", async () => {
    const stream = new CollectingStream();
    await handler(
      restEvent("/v1/chat/completions", {
        model: "mock/echo",
        messages: [{ role: "user", content: "framed" }],
      }),
      stream,
      {},
    );
    expect(stream.contentType).toBe(PRELUDE_CONTENT_TYPE);
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers["x-request-id"]).toBe("req-from-api-gateway");
    expect(prelude.headers["x-gateway-provider"]).toBe("mock");
    expect(JSON.parse(body).choices[0].message.content).toBe("Echo: framed");
  });

  it("streams SSE after the prelude", async () => {
    const stream = new CollectingStream();
    await handler(
      restEvent("/v1/chat/completions", {
        model: "mock/echo",
        stream: true,
        messages: [{ role: "user", content: "a b c" }],
      }),
      stream,
      {},
    );
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.headers["content-type"]).toContain("text/event-stream");
    expect(body.startsWith("data: {")).toBe(true);
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    // One write per SSE event: the body really streams rather than arriving as one buffer.
    expect(stream.chunks.length).toBeGreaterThan(5);
  });

  it("lists the attempt that served a short stream in its usage event", async () => {
    // A short answer can end before the attempt loop records the attempt that served it.
    const published: GatewayEvent[] = [];
    const events = wired.deps.events;
    wired.deps.events = { publish: async (e: GatewayEvent[]) => void published.push(...e) };
    try {
      await handler(
        restEvent("/v1/chat/completions", {
          model: "mock/echo",
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
        new CollectingStream(),
        {},
      );
      await expect.poll(() => published.length).toBe(1);
      expect(published[0]?.detail.attempts).toEqual([
        expect.objectContaining({ provider: "mock", model: "echo", outcome: "ok" }),
      ]);
    } finally {
      wired.deps.events = events;
    }
  });

  it("frames errors the same way, with their status in the prelude", async () => {
    const stream = new CollectingStream();
    await handler({ ...restEvent("/v1/chat/completions", { model: "mock/echo" }), headers: {} }, stream, {});
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.statusCode).toBe(401);
    expect(JSON.parse(body).error.type).toBe("authentication_error");
  });

  it("decodes a base64 body as API Gateway sends binary media types", async () => {
    const stream = new CollectingStream();
    const event = restEvent("/v1/chat/completions", undefined);
    event.body = Buffer.from(
      JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "b64" }] }),
    ).toString("base64");
    event.isBase64Encoded = true;
    await handler(event, stream, {});
    expect(JSON.parse(unframe(stream.bytes).body).choices[0].message.content).toBe("Echo: b64");
  });
});

describe("a key whose org is gone (a config file applied without it)", () => {
  it("is refused with 403 org_not_found, never served without the org's limits", async () => {
    const secret = "sk-gw-orphaned-key";
    await wired.deps.keys.create({
      id: "orphan",
      org: "dissolved",
      role: "api",
      sha256: sha256Hex(secret),
      createdAt: new Date().toISOString(),
    });
    const stream = new CollectingStream();
    await handler(
      restEvent(
        "/v1/chat/completions",
        { model: "mock/echo", messages: [{ role: "user", content: "hi" }] },
        "POST",
        secret,
      ),
      stream,
      {},
    );
    const { prelude, body } = unframe(stream.bytes);
    expect(prelude.statusCode).toBe(403);
    expect(JSON.parse(body).error).toMatchObject({ code: "org_not_found" });
  });
});
