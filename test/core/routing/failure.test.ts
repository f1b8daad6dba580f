import { describe, expect, it } from "vitest";
import {
  badRequest,
  GatewayError,
  notFound,
  toGatewayError,
  unsupportedParameter,
  upstreamError,
  upstreamTimeout,
} from "../../../core/api/errors.ts";
import { decide, type FailureDecision } from "../../../core/routing/failure.ts";

const retry = (countsAgainstTarget: boolean): FailureDecision => ({ action: "retry", countsAgainstTarget });
const next = (countsAgainstTarget: boolean): FailureDecision => ({ action: "next", countsAgainstTarget });
const fail: FailureDecision = { action: "fail", countsAgainstTarget: false };

const providerRejected = (status: number) =>
  new GatewayError(status, "invalid_request_error", "Provider rejected the request.", {
    code: "upstream_invalid_request",
  });

describe("decide", () => {
  it.each([
    {
      what: "a provider 429",
      err: new GatewayError(429, "rate_limit_error", "slow down", { code: "upstream_rate_limited" }),
      expected: retry(true),
    },
    {
      what: "a provider 429 no retry wins back (OpenAI's insufficient_quota)",
      err: new GatewayError(429, "rate_limit_error", "out of credit", {
        code: "upstream_rate_limited",
        headers: { "x-should-retry": "false" },
      }),
      expected: next(true),
    },
    { what: "a provider 5xx", err: upstreamError("HTTP 503", "upstream_http_error"), expected: retry(true) },
    { what: "a reset connection", err: upstreamError("reset", "upstream_reset"), expected: retry(true) },
    {
      what: "an unreachable provider",
      err: upstreamError("down", "upstream_unreachable"),
      expected: next(true),
    },
    { what: "a provider timeout", err: upstreamTimeout("p", "connect"), expected: next(true) },
    { what: "a malformed response", err: upstreamError("html", "upstream_malformed"), expected: next(true) },
    { what: "a truncated stream", err: upstreamError("cut", "upstream_truncated"), expected: next(true) },
    { what: "an oversized response", err: upstreamError("big", "upstream_too_large"), expected: next(true) },
    {
      what: "the gateway's credential refused",
      err: upstreamError("creds", "upstream_auth_failed"),
      expected: next(true),
    },
    { what: "an unsupported parameter", err: unsupportedParameter("p", "logprobs"), expected: next(false) },
    {
      what: "embeddings not supported",
      err: new GatewayError(400, "invalid_request_error", "no", { code: "embeddings_not_supported" }),
      expected: next(false),
    },
    { what: "a provider 400", err: providerRejected(400), expected: fail },
    { what: "a provider 404", err: providerRejected(404), expected: next(false) },
    { what: "a provider 413", err: providerRejected(413), expected: fail },
    {
      what: "the gateway's own 413",
      err: new GatewayError(413, "invalid_request_error", "too big", { code: "request_too_large" }),
      expected: fail,
    },
    { what: "a gateway 400 without a code", err: badRequest("bad"), expected: fail },
    {
      what: "a gateway 404 that is not the provider's",
      err: notFound("gone", "model_not_found"),
      expected: fail,
    },
    { what: "an unknown code", err: upstreamError("?", "something_new"), expected: fail },
    { what: "the generic upstream_error code", err: upstreamError("?"), expected: fail },
    { what: "an internal error", err: toGatewayError(new Error("bug")), expected: fail },
  ])("maps $what to $expected.action (counts: $expected.countsAgainstTarget)", ({ err, expected }) => {
    expect(decide(err)).toEqual(expected);
  });

  it("never retries nor falls back once the caller has gone", () => {
    const gone = new GatewayError(499, "invalid_request_error", "gone", { code: "client_closed" });
    expect(decide(gone)).toEqual(fail);
  });

  it("decides by code, not by status, for a known code", () => {
    const odd = new GatewayError(418, "upstream_error", "teapot", { code: "upstream_http_error" });
    expect(decide(odd)).toEqual(retry(true));
  });
});

/** An error event inside a 200 stream, as the stream translator reports it: the provider's kind is the code. */
const reported = (kind: string) =>
  upstreamError(`Provider 'p' reported an error before any content: ${kind}`, kind);

describe("decide on a provider's error event, which names its kind instead of an HTTP status", () => {
  it.each([
    // Anthropic
    ["overloaded_error", "529", retry(true)],
    ["api_error", "500", retry(true)],
    ["timeout_error", "504", retry(true)],
    ["billing_error", "402", retry(true)],
    ["rate_limit_error", "429", next(true)],
    ["authentication_error", "401", next(true)],
    ["permission_error", "403", next(true)],
    ["not_found_error", "404", next(false)],
    ["invalid_request_error", "400", fail],
    ["request_too_large", "413", fail],
    // OpenAI
    ["server_error", "500", retry(true)],
    ["requests", "429", next(true)],
    ["tokens", "429", next(true)],
    ["insufficient_quota", "429", next(true)],
    // Gemini
    ["UNAVAILABLE", "503", retry(true)],
    ["INTERNAL", "500", retry(true)],
    ["UNKNOWN", "500", retry(true)],
    ["DEADLINE_EXCEEDED", "504", retry(true)],
    ["RESOURCE_EXHAUSTED", "429", next(true)],
    ["UNAUTHENTICATED", "401", next(true)],
    ["PERMISSION_DENIED", "403", next(true)],
    ["NOT_FOUND", "404", next(false)],
    ["INVALID_ARGUMENT", "400", fail],
    ["FAILED_PRECONDITION", "400", fail],
  ])("treats %s like an HTTP %s: %o", (kind, _status, expected) => {
    expect(decide(reported(kind))).toEqual(expected);
  });

  it("falls back at once on a rate-limit event: it carries no Retry-After to wait for", () => {
    expect(decide(reported("rate_limit_error")).action).toBe("next");
  });

  it("fails on a kind it does not know, as on any unknown code", () => {
    expect(decide(reported("brand_new_error"))).toEqual(fail);
  });

  it("reads a kind only on a provider-reported error, not on the gateway's own error of that name", () => {
    const own = new GatewayError(500, "server_error", "bug", { code: "server_error" });
    expect(decide(own)).toEqual(fail);
  });
});
