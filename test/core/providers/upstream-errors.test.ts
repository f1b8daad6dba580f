import { describe, expect, it } from "vitest";
import { TransportError, type TransportFailure } from "../../../core/providers/transport.ts";
import {
  providerFaultError,
  providerMessage,
  transportError,
  upstreamStatusError,
} from "../../../core/providers/upstream-errors.ts";

const openaiBody = JSON.stringify({
  error: { message: "Invalid 'messages[0].role'.", type: "invalid_request_error", param: null, code: null },
});
const anthropicBody = JSON.stringify({
  type: "error",
  error: { type: "invalid_request_error", message: "max_tokens: field required" },
});
const geminiBody = JSON.stringify({
  error: {
    code: 400,
    message: "API key not valid. Please pass a valid API key.",
    status: "INVALID_ARGUMENT",
  },
});
const html = "<html><body><h1>502 Bad Gateway</h1>secret-internal-host.corp</body></html>";

describe("upstreamStatusError", () => {
  it.each([
    [
      400,
      openaiBody,
      400,
      "invalid_request_error",
      "upstream_invalid_request",
      "Invalid 'messages[0].role'.",
    ],
    [
      404,
      anthropicBody,
      404,
      "invalid_request_error",
      "upstream_invalid_request",
      "max_tokens: field required",
    ],
    [409, geminiBody, 400, "invalid_request_error", "upstream_invalid_request", "API key not valid."],
    [
      413,
      openaiBody,
      413,
      "invalid_request_error",
      "upstream_invalid_request",
      "Invalid 'messages[0].role'.",
    ],
    [
      422,
      openaiBody,
      400,
      "invalid_request_error",
      "upstream_invalid_request",
      "Invalid 'messages[0].role'.",
    ],
    [429, openaiBody, 429, "rate_limit_error", "upstream_rate_limited", "Invalid 'messages[0].role'."],
  ])("maps %i to %i %s keeping the provider's message", (status, body, outStatus, type, code, message) => {
    const err = upstreamStatusError("openai", status, body, {});
    expect(err).toMatchObject({ status: outStatus, type, code });
    expect(err.message).toContain(message);
  });

  it.each([400, 404, 422])("falls back to a generic message for %i when the body has none", (status) => {
    const err = upstreamStatusError("claude", status, html, {});
    expect(err.message).toBe("Provider 'claude' rejected the request.");
    expect(err.message).not.toContain("corp");
  });

  it.each([401, 403])("maps %i to 502 without leaking the provider's text", (status) => {
    const err = upstreamStatusError("openai", status, geminiBody, {});
    expect(err).toMatchObject({ status: 502, type: "upstream_error", code: "upstream_auth_failed" });
    expect(err.message).toBe("Provider 'openai' refused the gateway's credentials.");
  });

  it("maps Gemini's 400 for a bad API key to the gateway's refused credential, not the caller's mistake", () => {
    const body = JSON.stringify({
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
          },
        ],
      },
    });
    const err = upstreamStatusError("gemini", 400, body, {});
    expect(err).toMatchObject({ status: 502, code: "upstream_auth_failed" });
    expect(err.message).not.toContain("API key");
  });

  it("keeps the field OpenAI names at fault in a 4xx, and OpenAI's own code", () => {
    const body = JSON.stringify({
      error: {
        message: "Invalid 'messages[0].content': string too long.",
        type: "invalid_request_error",
        param: "messages[0].content",
        code: "string_above_max_length",
      },
    });
    expect(upstreamStatusError("openai", 400, body, {})).toMatchObject({
      status: 400,
      param: "messages[0].content",
      code: "string_above_max_length",
      message: "Invalid 'messages[0].content': string too long.",
    });
  });

  it.each([
    [
      "openai",
      { message: "This model's maximum context length is 128000 tokens.", code: "context_length_exceeded" },
    ],
    [
      "anthropic",
      { type: "invalid_request_error", message: "prompt is too long: 208310 tokens > 200000 maximum" },
    ],
    [
      "anthropic",
      {
        type: "invalid_request_error",
        message:
          "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length",
      },
    ],
    [
      "gemini",
      {
        code: 400,
        status: "INVALID_ARGUMENT",
        message: "The input token count (1234567) exceeds the maximum number of tokens allowed (1048576).",
      },
    ],
  ])(
    "calls %s's prompt past the context window what OpenAI calls it: context_length_exceeded",
    (p, error) => {
      expect(upstreamStatusError(p, 400, JSON.stringify({ error }), {})).toMatchObject({
        status: 400,
        type: "invalid_request_error",
        code: "context_length_exceeded",
        message: error.message,
      });
    },
  );

  it("passes on no code that does not look like OpenAI's (a number, free text)", () => {
    for (const code of [400, "Not A Code!", "x".repeat(80)])
      expect(upstreamStatusError("p", 400, JSON.stringify({ error: { message: "m", code } }), {}).code).toBe(
        "upstream_invalid_request",
      );
  });

  it.each([
    ["Anthropic's 402 billing_error", 402, { type: "billing_error", message: "billing issue" }],
    [
      "Anthropic's 400 for a credit balance too low",
      400,
      {
        type: "invalid_request_error",
        message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing.",
      },
    ],
  ])(
    "calls %s what OpenAI calls an account out of credit: 429 insufficient_quota, not retried",
    (_, status, error) => {
      expect(
        upstreamStatusError("anthropic", status, JSON.stringify({ type: "error", error }), {}),
      ).toMatchObject({
        status: 429,
        code: "insufficient_quota",
        headers: { "x-should-retry": "false" },
      });
    },
  );

  it.each([
    ["null", null],
    ["a number", 3],
    ["absent", undefined],
  ])("names no param when the provider's is %s", (_what, param) => {
    const body = JSON.stringify({ error: { message: "x", param } });
    expect(upstreamStatusError("openai", 400, body, {}).param).toBeNull();
  });

  it("tells the SDK not to retry OpenAI's quota 429, which no retry wins back", () => {
    const body = JSON.stringify({
      error: {
        message: "You exceeded your current quota.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    });
    expect(upstreamStatusError("openai", 429, body, { "retry-after": "1" })).toMatchObject({
      status: 429,
      code: "insufficient_quota",
      headers: { "x-should-retry": "false" },
    });
    expect(upstreamStatusError("openai", 429, openaiBody, {}).headers).not.toHaveProperty("x-should-retry");
  });

  it("keeps OpenAI's model_not_found on a provider 404, as OpenAI names it", () => {
    const body = JSON.stringify({
      error: {
        message: "The model `gpt-x` does not exist",
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
    });
    expect(upstreamStatusError("openai", 404, body, {})).toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });

  it.each([
    [
      "Anthropic's not_found_error for the model",
      { type: "error", error: { type: "not_found_error", message: "model: claude-nope" } },
      "model_not_found",
    ],
    [
      "Gemini's NOT_FOUND for the model",
      {
        error: {
          code: 404,
          message:
            "models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.",
          status: "NOT_FOUND",
        },
      },
      "model_not_found",
    ],
    [
      "a 404 for a path (a base URL missing its /v1)",
      {
        error: { message: "Invalid URL (POST /chat/completions)", type: "invalid_request_error", code: null },
      },
      "upstream_invalid_request",
    ],
    [
      "Anthropic's not_found_error for a path",
      { type: "error", error: { type: "not_found_error", message: "Not Found" } },
      "upstream_invalid_request",
    ],
  ])("answers %s as a 404 %s", (_, body, code) => {
    expect(upstreamStatusError("p", 404, JSON.stringify(body), {})).toMatchObject({ status: 404, code });
  });

  it("reads an in-band not_found_error for the model as the model not found", () => {
    const err = providerFaultError("anthropic", "not_found_error", "model: claude-nope", "reported an error");
    expect(err).toMatchObject({ status: 404, code: "model_not_found" });
  });

  it.each([
    ["seconds", { "retry-after": "7" }, { "retry-after": "7" }],
    [
      "an HTTP date",
      { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" },
      { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" },
    ],
    ["a credential a proxy echoed", { "retry-after": "Bearer sk-secret-0123456789" }, {}],
    ["a retry-after-ms that is no number", { "retry-after-ms": "sk-secret-0123456789" }, {}],
  ])("passes a 429's Retry-After on only as what it should be: %s", (_, sent, carried) => {
    expect(upstreamStatusError("openai", 429, openaiBody, sent).headers).toEqual(carried);
  });

  it("carries OpenAI's retry-after-ms from a 429 beside retry-after", () => {
    const err = upstreamStatusError("openai", 429, openaiBody, {
      "retry-after": "1",
      "retry-after-ms": "300",
    });
    expect(err.headers).toMatchObject({ "retry-after": "1", "retry-after-ms": "300" });
  });

  it.each([
    ["2s", "2", "2000"],
    ["0.500s", "1", "500"],
    ["17.25s", "18", "17250"],
  ])("reads Gemini's RetryInfo delay %s as Retry-After %s (retry-after-ms %s)", (delay, seconds, ms) => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: "You exceeded your current quota. Please retry in 2s.",
        status: "RESOURCE_EXHAUSTED",
        details: [
          { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [] },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: delay },
        ],
      },
    });
    expect(upstreamStatusError("gemini", 429, body, {}).headers).toEqual({
      "retry-after": seconds,
      "retry-after-ms": ms,
    });
  });

  it("prefers a Retry-After header to a RetryInfo delay, and ignores a delay it cannot read", () => {
    const body = (retryDelay: string) =>
      JSON.stringify({
        error: { details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay }] },
      });
    expect(
      upstreamStatusError("gemini", 429, body("2s"), { "retry-after": "9" }).headers["retry-after"],
    ).toBe("9");
    expect(upstreamStatusError("gemini", 429, body("soon"), {}).headers).toEqual({});
  });

  it("carries retry-after from a 429", () => {
    const err = upstreamStatusError("openai", 429, "", { "retry-after": "7" });
    expect(err).toMatchObject({ status: 429, headers: { "retry-after": "7" } });
    expect(err.message).toBe("Provider 'openai' is rate limiting requests.");
  });

  it.each([
    ["absent", undefined],
    ["repeated", ["1", "2"]],
  ])("sends no retry-after when the provider's is %s", (_what, value) => {
    expect(upstreamStatusError("openai", 429, "", { "retry-after": value }).headers).toEqual({});
  });

  it.each([500, 502, 503, 504, 529, 418])(
    "maps %i to 502 naming the provider and its status, without its text",
    (status) => {
      const err = upstreamStatusError("gemini", status, openaiBody, {});
      expect(err).toMatchObject({ status: 502, type: "upstream_error", code: "upstream_http_error" });
      expect(err.message).toBe(`Provider 'gemini' returned HTTP ${status}.`);
    },
  );

  it("never puts an HTML body into the message", () => {
    for (const status of [400, 401, 429, 500])
      expect(upstreamStatusError("p", status, html, {}).message).not.toMatch(/html|corp/i);
  });
});

describe("providerMessage", () => {
  it.each([
    ["an OpenAI error", openaiBody, "Invalid 'messages[0].role'."],
    ["an Anthropic error", anthropicBody, "max_tokens: field required"],
    ["a Gemini error", geminiBody, "API key not valid. Please pass a valid API key."],
    ["an HTML page", html, undefined],
    ["an empty body", "", undefined],
    ["JSON without error", '{"message":"x"}', undefined],
    ["an error that is a string", '{"error":"boom"}', undefined],
    ["an error with a numeric message", '{"error":{"message":5}}', undefined],
    ["JSON null", "null", undefined],
    ["a JSON array", '[{"error":{"message":"x"}}]', undefined],
  ])("reads %s", (_what, body, message) => {
    expect(providerMessage(body)).toBe(message);
  });

  it("truncates a very long message to 2000 characters", () => {
    expect(providerMessage(JSON.stringify({ error: { message: "x".repeat(5000) } }))).toHaveLength(2000);
  });
});

describe("transportError", () => {
  const cases: Array<[TransportFailure, number, string, string]> = [
    ["connect_timeout", 504, "upstream_timeout", "connect"],
    ["first_byte_timeout", 504, "upstream_timeout", "first byte"],
    ["idle_timeout", 504, "upstream_timeout", "silent"],
    ["total_timeout", 504, "upstream_timeout", "total time"],
    ["reset", 502, "upstream_reset", "closed the connection"],
    ["unreachable", 502, "upstream_unreachable", "could not be reached"],
  ];

  it.each(cases)("maps %s to %i %s", (failure, status, code, phrase) => {
    const err = transportError("claude", new TransportError(failure, "ECONNREFUSED 10.0.0.1"));
    expect(err).toMatchObject({ status, code, type: status === 504 ? "timeout_error" : "upstream_error" });
    expect(err.message).toContain("'claude'");
    expect(err.message).toContain(phrase);
    expect(err.message).not.toContain("10.0.0.1");
  });
});
