import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpTransport } from "../../../core/providers/http-transport.ts";
import type { Endpoint } from "../../../core/providers/transport.ts";

let server: Server;
let origin: string;
const seen: string[] = [];
const transport = createHttpTransport();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? "");
    req.resume();
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await transport.close();
  await new Promise((r) => server.close(r));
});

const endpoint = (baseUrl: string): Endpoint => ({
  providerId: "p",
  kind: "openai",
  baseUrl,
  timeouts: { connectMs: 1_000, firstByteMs: 1_000, idleMs: 1_000, totalMs: 5_000 },
});

describe("the HTTP transport", () => {
  it.each([
    ["a base URL's path before the call's", "/v1", "/chat/completions", "/v1/chat/completions"],
    ["a base URL's trailing slash dropped", "/v1/", "/chat/completions", "/v1/chat/completions"],
    [
      "a base URL's query after the call's path",
      "/v1?api-version=2024-10-21",
      "/chat/completions",
      "/v1/chat/completions?api-version=2024-10-21",
    ],
    [
      "a base URL's query after the call's own query",
      "/v1beta?tenant=t1",
      "/models/m:streamGenerateContent?alt=sse",
      "/v1beta/models/m:streamGenerateContent?alt=sse&tenant=t1",
    ],
  ])("sends %s", async (_, base, path, expected) => {
    seen.length = 0;
    const res = await transport.send(
      endpoint(`${origin}${base}`),
      { path, headers: { "content-type": "application/json" }, body: "{}" },
      new AbortController().signal,
    );
    await res.body.resume();
    expect(seen).toEqual([expected]);
  });
});
