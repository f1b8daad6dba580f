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
import { providerFaultError, upstreamStatusError } from "../../../core/providers/upstream-errors.ts";
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
      what: "a provider 429 no retry wins back (the account is out of credit)",
      err: new GatewayError(429, "rate_limit_error", "out of credit", {
        code: "insufficient_quota",
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
      expected: next(false),
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
      what: "a target's 404 for a model it does not have (OpenAI's model_not_found)",
      err: notFound("gone", "model_not_found"),
      expected: next(false),
    },
    { what: "an unknown code", err: upstreamError("?", "something_new"), expected: fail },
    { what: "the generic upstream_error code", err: upstreamError("?"), expected: fail },
    { what: "an internal error", err: toGatewayError(new Error("bug")), expected: fail },
  ])("maps $what to $expected.action (counts: $expected.countsAgainstTarget)", ({ err, expected }) => {
    expect(decide(err)).toEqual(expected);
  });

  it.each([
    ["unsupported_parameter", 400, fail],
    ["upstream_http_error", 400, fail],
    ["upstream_timeout", 400, fail],
    ["unknown_url", 404, next(false)],
  ])(
    "routes a provider's %s (its own code, passed on) as the provider's invalid request",
    (code, status, expected) => {
      const body = JSON.stringify({ error: { message: "no", type: "invalid_request_error", code } });
      const err = upstreamStatusError("openai", status, body, {});
      expect(err.code).toBe(code);
      expect(decide(err)).toEqual(expected);
    },
  );

  it("never retries nor falls back once the caller has gone", () => {
    const gone = new GatewayError(499, "invalid_request_error", "gone", { code: "client_closed" });
    expect(decide(gone)).toEqual(fail);
  });

  it("decides by code, not by status, for a known code", () => {
    const odd = new GatewayError(418, "upstream_error", "teapot", { code: "upstream_http_error" });
    expect(decide(odd)).toEqual(retry(true));
  });
});

/** An error event inside a 200 stream, as the stream translator reports it. */
const reported = (kind: string) => providerFaultError("p", kind, `a ${kind} event`, "reported an error");

describe("a provider's error event, which names its kind instead of an HTTP status", () => {
  it.each([
    // Anthropic
    ["overloaded_error", 502, "upstream_http_error", retry(true)],
    ["api_error", 502, "upstream_http_error", retry(true)],
    ["timeout_error", 502, "upstream_http_error", retry(true)],
    ["billing_error", 429, "insufficient_quota", next(true)],
    ["rate_limit_error", 429, "upstream_rate_limited", retry(true)],
    ["authentication_error", 502, "upstream_auth_failed", next(false)],
    ["permission_error", 502, "upstream_auth_failed", next(false)],
    ["not_found_error", 404, "upstream_invalid_request", next(false)],
    ["invalid_request_error", 400, "upstream_invalid_request", fail],
    ["request_too_large", 413, "upstream_invalid_request", fail],
    // OpenAI
    ["server_error", 502, "upstream_http_error", retry(true)],
    ["requests", 429, "upstream_rate_limited", retry(true)],
    ["tokens", 429, "upstream_rate_limited", retry(true)],
    ["insufficient_quota", 429, "insufficient_quota", next(true)],
    // Gemini
    ["UNAVAILABLE", 502, "upstream_http_error", retry(true)],
    ["INTERNAL", 502, "upstream_http_error", retry(true)],
    ["UNKNOWN", 502, "upstream_http_error", retry(true)],
    ["DEADLINE_EXCEEDED", 502, "upstream_http_error", retry(true)],
    ["RESOURCE_EXHAUSTED", 429, "upstream_rate_limited", retry(true)],
    ["UNAUTHENTICATED", 502, "upstream_auth_failed", next(false)],
    ["PERMISSION_DENIED", 502, "upstream_auth_failed", next(false)],
    ["NOT_FOUND", 404, "upstream_invalid_request", next(false)],
    ["INVALID_ARGUMENT", 400, "upstream_invalid_request", fail],
    ["FAILED_PRECONDITION", 400, "upstream_invalid_request", fail],
    // A kind nobody documents yet stays the code, and fails like any unknown code.
    ["brand_new_error", 502, "brand_new_error", fail],
  ])("%s reaches the caller as %d %s, and routing decides %o", (kind, status, code, expected) => {
    const err = reported(kind);
    expect({ status: err.status, code: err.code }).toEqual({ status, code });
    expect(decide(err)).toEqual(expected);
  });

  it("keeps the provider's message for the caller's own fault", () => {
    expect(reported("invalid_request_error").message).toBe("a invalid_request_error event");
  });

  it("tells the SDK not to retry what no retry fixes: a refused credential, an exhausted quota", () => {
    for (const kind of ["authentication_error", "insufficient_quota"])
      expect(reported(kind).headers["x-should-retry"]).toBe("false");
  });
});
