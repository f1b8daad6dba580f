import { once } from "node:events";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathAndQuery, toProxyEvent } from "../../../functions/local/proxy-event.ts";

let server: Server;
let port: number;
let stage: string | undefined;
const events: APIGatewayProxyEvent[] = [];

beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    events.push(toProxyEvent(req, Buffer.concat(chunks), stage));
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, "close");
});

/** Sends one request and returns the event the server built from it. */
async function send(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: Buffer | string,
): Promise<APIGatewayProxyEvent> {
  const req = request({ host: "127.0.0.1", port, method, path, headers });
  req.end(body);
  const [res] = (await once(req, "response")) as [IncomingMessage];
  res.resume();
  await once(res, "end");
  return events.at(-1)!;
}

describe("toProxyEvent", () => {
  const json = JSON.stringify({ model: "smart", messages: [{ role: "user", content: "héllo ✨" }] });

  it("builds the REST v1 proxy event for a JSON POST", async () => {
    const event = await send(
      "POST",
      "/v1/chat/completions?a=1&a=2&b=x%20y",
      {
        "Content-Type": "application/json",
        "X-Multi": ["one", "two"],
        "User-Agent": "vitest",
        Authorization: "Bearer sk-test",
      },
      json,
    );
    expect(event).toMatchObject({
      resource: "/{proxy+}",
      path: "/v1/chat/completions",
      httpMethod: "POST",
      queryStringParameters: { a: "2", b: "x y" },
      multiValueQueryStringParameters: { a: ["1", "2"], b: ["x y"] },
      pathParameters: { proxy: "v1/chat/completions" },
      stageVariables: null,
      body: json,
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      "Content-Type": "application/json",
      "X-Multi": "two",
      "User-Agent": "vitest",
      Authorization: "Bearer sk-test",
      Host: `127.0.0.1:${port}`,
    });
    expect(event.multiValueHeaders).toMatchObject({ "X-Multi": ["one", "two"], "User-Agent": ["vitest"] });
    expect(event.requestContext).toMatchObject({
      stage: "local",
      path: "/local/v1/chat/completions",
      httpMethod: "POST",
      protocol: "HTTP/1.1",
      identity: { sourceIp: "127.0.0.1", userAgent: "vitest" },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.requestTimeEpoch).toBeGreaterThan(Date.now() - 60_000);
  });

  it("gives every request its own request id", async () => {
    const a = await send("GET", "/v1/models", {});
    const b = await send("GET", "/v1/models", {});
    expect(a.requestContext.requestId).not.toBe(b.requestContext.requestId);
  });

  it("takes header and query names that an object's prototype has as plain names", async () => {
    const event = await send("GET", "/v1/models?constructor=1&__proto__=2&toString=3", {
      constructor: "a",
      toString: "b",
    });
    expect(Object.entries(event.headers)).toEqual(expect.arrayContaining([["constructor", "a"]]));
    expect(Object.entries(event.multiValueHeaders)).toEqual(expect.arrayContaining([["toString", ["b"]]]));
    expect(Object.entries(event.multiValueQueryStringParameters ?? {})).toEqual(
      expect.arrayContaining([["constructor", ["1"]]]),
    );
    expect(Object.entries(event.queryStringParameters ?? {})).toEqual(
      expect.arrayContaining([["__proto__", "2"]]),
    );
  });

  it("sets query parameters and body to null when there are none", async () => {
    const event = await send("GET", "/v1/models", {});
    expect(event).toMatchObject({
      httpMethod: "GET",
      path: "/v1/models",
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: null,
      isBase64Encoded: false,
    });
    expect(event.requestContext.identity.userAgent).toBeNull();
  });

  it("base64-encodes a binary body", async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x0a]);
    const event = await send("POST", "/upload", { "Content-Type": "application/octet-stream" }, bytes);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, "base64").equals(bytes)).toBe(true);
  });

  it.each([
    ["text/plain; charset=utf-8", "héllo"],
    ["application/x-www-form-urlencoded", "a=1&b=2"],
    ["application/vnd.api+json", '{"a":1}'],
    ["APPLICATION/JSON", "[]"],
  ])("keeps a %s body as a UTF-8 string", async (type, text) => {
    const event = await send("POST", "/x", { "Content-Type": type }, text);
    expect(event).toMatchObject({ body: text, isBase64Encoded: false });
  });

  it("treats a body without content-type as JSON text", async () => {
    const event = await send("PUT", "/x", {}, "{}");
    expect(event).toMatchObject({ body: "{}", isBase64Encoded: false, httpMethod: "PUT" });
  });

  it("uses the given stage in the request context", async () => {
    stage = "prod";
    try {
      const event = await send("GET", "/health", {});
      expect(event.requestContext).toMatchObject({ stage: "prod", path: "/prod/health" });
      expect(event.path).toBe("/health");
    } finally {
      stage = undefined;
    }
  });

  it("maps the root path to an empty proxy parameter", async () => {
    const event = await send("GET", "/", {});
    expect(event.path).toBe("/");
    expect(event.pathParameters).toEqual({ proxy: "" });
  });
});

describe("pathAndQuery", () => {
  it.each([
    "/v1/chat/completions",
    "/",
    "/v1/models/",
    "/v1/models/gpt-4o",
    "/v1/models/gpt-4.1",
    "/admin/orgs/..x",
    "/a%20b",
    "/v1/chat/completions?a=1&a=2&b=x%20y",
    "//double",
    "/caf\u00e9",
  ])("reads %s as the URL parser does", (raw) => {
    const url = new URL(raw, "http://localhost");
    const got = pathAndQuery(raw);
    expect([got.pathname, [...got.searchParams], got.size]).toEqual([
      url.pathname,
      [...url.searchParams],
      url.searchParams.size,
    ]);
  });

  it.each([
    "/a/../b",
    "/a/./b",
    "/v1/%2e%2e/admin/orgs",
    "/admin/orgs/acme/%2E./beta",
    "/admin/orgs/acme/..",
    "/v1\\..\\admin/orgs",
  ])("keeps %s as sent, rather than resolve its dot segments into another route", (raw) => {
    expect(pathAndQuery(`${raw}?q=1`)).toMatchObject({ pathname: raw, size: 1 });
  });
});
