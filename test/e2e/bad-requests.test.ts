import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_KEY,
  API_KEY,
  EU_KEY,
  type Harness,
  MAX_BODY,
  rawRequest,
  SCOPED_KEY,
  startHarness,
} from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const auth = { authorization: `Bearer ${API_KEY}` };
const ok = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "oa/gpt-sim", messages: [{ role: "user", content: "hi" }], ...extra });
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code?: string | null;
  param?: string | null;
  type?: string;
  /** What the message must say, where the field alone does not tell the caller what was wrong. */
  message?: RegExp;
}

const CASES: Case[] = [
  { name: "malformed JSON", body: '{"model":', status: 400, code: "invalid_json" },
  { name: "an empty body", body: "", status: 400, code: "invalid_json" },
  { name: "a JSON array instead of an object", body: "[]", status: 400, code: "invalid_request_body" },
  { name: "a JSON string instead of an object", body: '"hello"', status: 400, code: "invalid_request_body" },
  { name: "JSON nested 100 000 levels deep", body: nested(100_000), status: 400, code: "invalid_json" },
  {
    name: "a tool schema nested 3 000 levels deep, for Anthropic",
    // Written as text: JSON.stringify itself overflows the stack on it.
    body: ok({ model: "an/claude-sim", tools: "TOOLS" }).replace(
      '"TOOLS"',
      `[{"type":"function","function":{"name":"f","parameters":${'{"type":"object","properties":{"a":'.repeat(3000)}{}${"}}".repeat(3000)}}}]`,
    ),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "a missing model",
    body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
    status: 400,
    param: "model",
  },
  { name: "an empty messages list", body: ok({ messages: [] }), status: 400, param: "messages" },
  {
    name: "an unknown role",
    body: ok({ messages: [{ role: "wizard", content: "x" }] }),
    status: 400,
    param: "messages[0].role",
  },
  { name: "an unknown top-level field", body: ok({ frobnicate: true }), status: 400, param: "frobnicate" },
  {
    name: "a __proto__ key",
    body: '{"model":"oa/gpt-sim","messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}',
    status: 400,
    param: "__proto__",
  },
  { name: "temperature out of range", body: ok({ temperature: 3 }), status: 400, param: "temperature" },
  { name: "a negative max_tokens", body: ok({ max_tokens: -5 }), status: 400, param: "max_tokens" },
  { name: "five stop sequences", body: ok({ stop: ["a", "b", "c", "d", "e"] }), status: 400, param: "stop" },
  { name: "an empty tools list", body: ok({ tools: [] }), status: 400, param: "tools" },
  {
    name: "stream_options without stream",
    body: ok({ stream_options: { include_usage: true } }),
    status: 400,
    param: "stream_options",
  },
  {
    name: "legacy functions beside tools",
    body: ok({
      functions: [{ name: "f" }],
      tools: [{ type: "function", function: { name: "g" } }],
    }),
    status: 400,
    param: "functions",
  },
  {
    name: "a legacy function result that no call asked for",
    body: ok({
      messages: [
        { role: "user", content: "?" },
        { role: "function", name: "f", content: "42" },
      ],
    }),
    status: 400,
    param: "messages[1].name",
  },
  {
    name: "audio output (modalities), which the gateway does not relay",
    body: ok({ modalities: ["text", "audio"] }),
    status: 400,
    param: "modalities[1]",
  },
  { name: "a 10 KB model name", body: ok({ model: "m".repeat(10_000) }), status: 400, param: "model" },
  {
    name: "an echoed assistant message with audio, which the gateway does not carry",
    body: ok({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "x", audio: { id: "audio_1" } },
      ],
    }),
    status: 400,
    param: "messages[1].audio",
  },
  {
    name: "embeddings of a negative token id",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/text-embedding-sim", input: [[1, -2]] }),
    status: 400,
    param: "input[0][1]",
  },
  {
    name: "a thought signature that is not a string",
    body: ok({
      messages: [
        {
          role: "assistant",
          tool_calls: [
            {
              id: "c1",
              type: "function",
              function: { name: "f", arguments: "{}" },
              extra_content: { google: { thought_signature: 7 } },
            },
          ],
        },
      ],
    }),
    status: 400,
    param: "messages[0].tool_calls[0].extra_content.google.thought_signature",
  },
  {
    name: "a tool message without tool_call_id",
    body: ok({ messages: [{ role: "tool", content: "x" }] }),
    status: 400,
    param: "messages[0].tool_call_id",
  },
  {
    name: "an unknown content part type",
    body: ok({ messages: [{ role: "user", content: [{ type: "audio", data: "x" }] }] }),
    status: 400,
    param: "messages[0].content[0].type",
  },
  {
    name: "a tool name with spaces",
    body: ok({ tools: [{ type: "function", function: { name: "bad name" } }] }),
    status: 400,
    param: "tools[0].function.name",
  },
  { name: "stream given as a string", body: ok({ stream: "yes" }), status: 400, param: "stream" },
  {
    name: "no API key",
    headers: {},
    body: ok(),
    status: 401,
    code: "invalid_api_key",
    type: "authentication_error",
  },
  {
    name: "a wrong API key",
    headers: { authorization: "Bearer sk-gw-wrong" },
    body: ok(),
    status: 401,
    code: "invalid_api_key",
  },
  {
    name: "Basic instead of Bearer auth",
    headers: { authorization: `Basic ${Buffer.from(`u:${API_KEY}`).toString("base64")}` },
    body: ok(),
    status: 401,
  },
  {
    name: "an unknown model",
    body: ok({ model: "gpt-nonexistent" }),
    status: 404,
    code: "model_not_found",
    param: "model",
  },
  { name: "an unknown provider prefix", body: ok({ model: "nope/x" }), status: 404, code: "model_not_found" },
  {
    name: "a provider whose key is not configured",
    body: ok({ model: "off/gpt-4o" }),
    status: 404,
    code: "model_not_found",
  },
  {
    name: "a body over the limit",
    body: ok({ user: "x".repeat(MAX_BODY) }),
    status: 413,
    code: "request_too_large",
  },
  {
    name: "a body that is not UTF-8",
    body: Buffer.concat([
      Buffer.from(ok().slice(0, -30)),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(ok().slice(-30)),
    ]),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "a Latin-1 body declared as such",
    headers: { ...auth, "content-type": "application/json; charset=iso-8859-1" },
    body: Buffer.from(ok({ user: "café" }), "latin1"),
    status: 415,
    code: "unsupported_media_type",
  },
  ...["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"].map((type) => ({
    name: `a body sent as ${type}`,
    headers: { ...auth, "content-type": type },
    body: ok(),
    status: 415,
    code: "unsupported_media_type",
  })),
  {
    name: "a gzip-compressed body",
    headers: { ...auth, "content-encoding": "gzip" },
    body: ok(),
    status: 415,
    code: "unsupported_content_encoding",
  },
  { name: "an unknown path", path: "/v1/nothing-here", body: ok(), status: 404, code: "unknown_url" },
  {
    name: "GET on the chat endpoint",
    method: "GET",
    body: undefined,
    status: 405,
    code: "method_not_allowed",
  },
  {
    name: "a model outside the key's scope",
    headers: { authorization: `Bearer ${SCOPED_KEY}` },
    body: ok(),
    status: 403,
    code: "model_not_allowed",
    param: "model",
  },
  {
    name: "an EU-only org asking for a US target",
    headers: { authorization: `Bearer ${EU_KEY}` },
    body: ok({ model: "us-only" }),
    status: 403,
    code: "residency_violation",
  },
  {
    name: "a parameter the provider cannot honour",
    body: ok({ model: "an/claude-sim", logit_bias: { "50256": -100 } }),
    status: 400,
    param: "logit_bias",
    code: "unsupported_parameter",
  },
  {
    name: "embeddings on a provider without them",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "an/claude-sim", input: "x" }),
    status: 400,
    code: "embeddings_not_supported",
  },
  {
    name: "a reasoning effort no API has",
    body: ok({ reasoning_effort: "ultra" }),
    status: 400,
    param: "reasoning_effort",
  },
  {
    name: "a prompt-cache breakpoint of another mode",
    body: ok({
      messages: [
        { role: "user", content: [{ type: "text", text: "x", prompt_cache_breakpoint: { mode: "auto" } }] },
      ],
    }),
    status: 400,
    param: "messages[0].content[0].prompt_cache_breakpoint.mode",
  },
  {
    name: "allowed tools naming a function not in tools",
    body: ok({
      model: "an/claude-sim",
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: {
        type: "allowed_tools",
        allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "g" } }] },
      },
    }),
    status: 400,
    param: "tool_choice.allowed_tools.tools[0].function.name",
  },
  {
    name: "a file part with both file_data and file_id",
    body: ok({
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", file_id: "file-1" } },
          ],
        },
      ],
    }),
    status: 400,
    param: "messages[0].content[0].file",
  },
  {
    name: "audio in a format OpenAI does not take",
    body: ok({
      messages: [
        {
          role: "user",
          content: [{ type: "input_audio", input_audio: { data: "T2dnUw==", format: "ogg" } }],
        },
      ],
    }),
    status: 400,
    param: "messages[0].content[0].input_audio.format",
  },
  {
    name: "a PDF sent to Gemini as bare base64, not a data URL",
    body: ok({
      model: "ge/gemini-2.5-flash",
      messages: [{ role: "user", content: [{ type: "file", file: { file_data: "JVBERi0xLjcK" } }] }],
    }),
    status: 400,
    param: "messages[0].content[0].file.file_data",
    code: "unsupported_parameter",
  },
  // Requests OpenAI refuses with 400 are refused before any provider is called, whichever the target.
  {
    name: "a tool result that answers no earlier tool call (OpenAI: 'must be a response to a preceeding message with tool_calls')",
    body: ok({
      model: "an/claude-sim",
      messages: [
        { role: "user", content: "?" },
        {
          role: "assistant",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "call_2", content: "42" },
      ],
    }),
    status: 400,
    param: "messages[2].tool_call_id",
    code: "invalid_request_body",
  },
  {
    name: "tool_choice required without tools (OpenAI: 'only allowed when tools are specified')",
    body: ok({ model: "ge/gemini-sim", tool_choice: "required" }),
    status: 400,
    param: "tool_choice",
    code: "invalid_request_body",
  },
  {
    name: "a named tool_choice without tools",
    body: ok({ model: "an/claude-sim", tool_choice: { type: "function", function: { name: "f" } } }),
    status: 400,
    param: "tool_choice",
    code: "invalid_request_body",
  },
  {
    name: "embeddings of more than 2048 texts",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: Array.from({ length: 2049 }, (_, i) => `text ${i}`) }),
    status: 400,
    param: "input",
    code: "invalid_request_body",
  },
  ...[
    ["an image data URL without data", "data:image/png;base64,"],
    ["an image URL without a host", "http://"],
    ["an image URL of another scheme", "ftp://example.com/cat.png"],
    ["an image URL with credentials and no host", "https://user@/a.png"],
    ["an image data URL of blanks", "data:image/png;base64,   "],
  ].map(([name, url]) => ({
    name: name!,
    body: ok({
      model: "an/claude-sim",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }],
    }),
    status: 400,
    param: "messages[0].content[0].image_url.url",
  })),
  {
    name: "embeddings of an empty list",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: [] }),
    status: 400,
    param: "input",
    message: /empty list/,
  },
  {
    name: "embeddings of more than 8192 token ids",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: Array.from({ length: 8193 }, () => 1) }),
    status: 400,
    param: "input",
    message: /at most 8192 token ids per input, got 8193/,
  },
  {
    name: "embeddings of a list holding a token array of more than 8192 ids",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: [[1, 2], Array.from({ length: 8193 }, () => 1)] }),
    status: 400,
    param: "input[1]",
    message: /at most 8192 token ids per input, got 8193/,
  },
  {
    name: "embeddings of an empty string",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: "" }),
    status: 400,
    param: "input",
  },
  {
    name: "embeddings of a list holding an empty string",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb", input: ["a", ""] }),
    status: 400,
    param: "input[1]",
  },
  {
    name: "embeddings without input",
    path: "/v1/embeddings",
    body: JSON.stringify({ model: "oa/emb" }),
    status: 400,
    param: "input",
  },
];

describe("bad and hostile requests", () => {
  it.each(CASES)("answers $name with $status in the OpenAI error envelope", async (c) => {
    const before = h.openai.requests.length + h.anthropic.requests.length + h.gemini.requests.length;
    const res = await rawRequest(h, {
      method: c.method,
      path: c.path,
      headers: c.headers ?? auth,
      body: c.body,
    });
    expect(res.status).toBe(c.status);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("content-type")).toContain("application/json");
    const envelope = res.json as { error: Record<string, unknown> };
    expect(Object.keys(envelope.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(typeof envelope.error.message).toBe("string");
    if (c.code !== undefined) expect(envelope.error.code).toBe(c.code);
    if (c.param !== undefined) expect(envelope.error.param).toBe(c.param);
    if (c.type !== undefined) expect(envelope.error.type).toBe(c.type);
    if (c.message !== undefined) expect(envelope.error.message).toMatch(c.message);
    // A refused request never reaches a provider.
    expect(h.openai.requests.length + h.anthropic.requests.length + h.gemini.requests.length).toBe(before);
  });

  it.each([
    ["a control character", "oa/gpt-sim\r\nx-injected: 1"],
    ["a character above U+00FF", "oa/gpt-sim\u2603"],
    ["a percent sign, which would make an encoded name ambiguous", "oa/gpt-sim%41"],
  ])("answers a provider model name holding %s, naming it percent-encoded", async (_, model) => {
    const res = await rawRequest(h, { headers: auth, body: ok({ model }) });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.headers.get("x-gateway-model")).toBe(encodeURIComponent(model.slice("oa/".length)));
    expect(res.headers.get("x-injected")).toBeNull();
  });

  it("never echoes the presented key in an authentication error", async () => {
    const res = await rawRequest(h, {
      headers: { authorization: "Bearer sk-gw-secret-attempt" },
      body: ok(),
    });
    expect(res.text).not.toContain("sk-gw-secret-attempt");
  });

  it.each([
    [
      "two different Authorization headers",
      [
        ["authorization", "Bearer sk-gw-someone-else"],
        ["authorization", `Bearer ${API_KEY}`],
      ],
      401,
    ],
    [
      "two different Authorization headers, the first the right one",
      [
        ["authorization", `Bearer ${API_KEY}`],
        ["authorization", "Bearer sk-gw-someone-else"],
      ],
      401,
    ],
    [
      "two different x-api-key headers",
      [
        ["x-api-key", "sk-gw-someone-else"],
        ["x-api-key", API_KEY],
      ],
      401,
    ],
    [
      "two different Authorization headers next to a right x-api-key",
      [
        ["authorization", "Bearer sk-gw-a"],
        ["authorization", "Bearer sk-gw-b"],
        ["x-api-key", API_KEY],
      ],
      401,
    ],
    [
      "the same Authorization line twice, as a proxy may repeat it",
      [
        ["authorization", `Bearer ${API_KEY}`],
        ["Authorization", `Bearer ${API_KEY}`],
      ],
      200,
    ],
  ])("answers %s with %i", async (_what, lines, want) => {
    // Raw header lines: fetch would join them itself.
    const status = await new Promise<number>((resolve, reject) => {
      const host = new URL(h.gateway.url).host;
      // Given as raw lines, the headers are all the request has: Host too.
      const raw = ["host", host, "content-type", "application/json", ...lines.flat()];
      const req = http.request(`${h.gateway.url}/v1/chat/completions`, { method: "POST", headers: raw });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(ok());
    });
    expect(status).toBe(want);
  });

  it.each([
    ["GET", "/metrics"],
    ["GET", "/admin/keys"],
  ])("reads two different Authorization headers on %s %s as no key, as /v1 does", async (method, path) => {
    const status = await new Promise<number>((resolve, reject) => {
      const raw = [
        "host",
        new URL(h.gateway.url).host,
        "authorization",
        `Bearer ${ADMIN_KEY}`,
        "authorization",
        "Bearer sk-gw-bogus",
      ];
      const req = http.request(`${h.gateway.url}${path}`, { method, headers: raw });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it.each([
    ["GET", "/v1/chat/completions", "POST"],
    ["DELETE", "/healthz", "GET, HEAD"],
    ["PUT", "/v1/models", "GET, HEAD"],
  ])("answers %s %s with 405 and the Allow header RFC 9110 asks for", async (method, path, allow) => {
    const res = await fetch(`${h.gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
  });

  it.each([
    ["no Content-Type", undefined],
    ["application/json; charset=UTF-8", "application/json; charset=UTF-8"],
    ["a +json type", "application/vnd.api+json"],
  ])("reads a body with %s as JSON", async (_, type) => {
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, ...(type ? { "content-type": type } : {}) },
      // A Uint8Array is sent without a Content-Type of its own.
      body: new TextEncoder().encode(ok({ messages: [{ role: "user", content: "naïve ☃" }] })),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(h.openai.requests.at(-1)?.body)).toContain("naïve ☃");
  });

  it.each([
    ["/healthz", {}, 200],
    ["/v1/models", { authorization: `Bearer ${API_KEY}` }, 200],
    ["/v1/models", {}, 401],
  ])("answers HEAD %s as its GET without the content (%j → %i)", async (path, headers, status) => {
    const res = await fetch(`${h.gateway.url}${path}`, { method: "HEAD", headers });
    expect([res.status, await res.text()]).toEqual([status, ""]);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it.each([
    ["a chat request refused for another field", "/v1/chat/completions", { model: "smart", bogus: 1 }],
    ["an embeddings request without input", "/v1/embeddings", { model: "oa/emb" }],
  ])("logs %s under the model it names", async (_, path, body) => {
    const res = await rawRequest(h, { path, headers: auth, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    await expect.poll(() => h.outcomes.at(-1)?.requestId).toBe(res.headers.get("x-request-id"));
    expect(h.outcomes.at(-1)?.model).toBe(body.model);
  });

  it("has at least 20 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });
});
