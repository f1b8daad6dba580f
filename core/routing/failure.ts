import type { GatewayError } from "../api/errors.ts";
import { upstreamStatusError } from "../providers/upstream-errors.ts";

/**
 * What the attempt loop does with a failed attempt:
 * - `fail`: the caller's fault (a provider 400, 413): no other target would answer differently.
 * - `next`: try the next target now.
 * - `retry`: worth another try on the same target (after backoff or the provider's Retry-After).
 * `countsAgainstTarget` feeds the circuit breaker: only the provider's own ill health counts.
 */
export interface FailureDecision {
  action: "fail" | "next" | "retry";
  countsAgainstTarget: boolean;
}

const BY_CODE: Record<string, FailureDecision> = {
  upstream_rate_limited: { action: "retry", countsAgainstTarget: true },
  upstream_http_error: { action: "retry", countsAgainstTarget: true },
  upstream_reset: { action: "retry", countsAgainstTarget: true },
  upstream_unreachable: { action: "next", countsAgainstTarget: true },
  upstream_timeout: { action: "next", countsAgainstTarget: true },
  upstream_malformed: { action: "next", countsAgainstTarget: true },
  upstream_truncated: { action: "next", countsAgainstTarget: true },
  upstream_too_large: { action: "next", countsAgainstTarget: true },
  // The gateway's credential for this provider is wrong: another provider may well work.
  upstream_auth_failed: { action: "next", countsAgainstTarget: true },
  // This target cannot honour a parameter; another target of the alias may.
  unsupported_parameter: { action: "next", countsAgainstTarget: false },
  embeddings_not_supported: { action: "next", countsAgainstTarget: false },
  // The caller disconnected: nobody is left to answer, and the provider did nothing wrong.
  client_closed: { action: "fail", countsAgainstTarget: false },
};

/**
 * The HTTP status a provider's own error kind stands for. An error event inside a 200 stream names no
 * status, only a kind, which the stream translator keeps as the error's code: Anthropic's and OpenAI's
 * `error.type`, Gemini's `error.status` (a google.rpc code name). Deciding by that status treats an
 * error event before the first chunk exactly like the same failure answered as an HTTP status.
 */
export const PROVIDER_ERROR_STATUS: Readonly<Record<string, number>> = {
  // Anthropic (OpenAI shares invalid_request_error).
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
  // OpenAI types its 429s by what ran out.
  requests: 429,
  tokens: 429,
  insufficient_quota: 429,
  server_error: 500,
  // Gemini.
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** An error event's kind decided as its HTTP status would be (upstreamStatusError, then BY_CODE). */
function byProviderKind(kind: string): FailureDecision | undefined {
  const status = PROVIDER_ERROR_STATUS[kind];
  if (status === undefined) return undefined;
  const decision = decide(upstreamStatusError("", status, "", {}));
  // A 429 is retried on the same target only after a usable Retry-After, which an event never carries.
  return status === 429 ? { ...decision, action: "next" } : decision;
}

export function decide(err: GatewayError): FailureDecision {
  // A 429 the provider says no retry wins back (OpenAI's `insufficient_quota`: the account is out of
  // credit): another target may have credit, this one will keep refusing until someone pays.
  if (err.code === "upstream_rate_limited" && err.headers["x-should-retry"] === "false")
    return { action: "next", countsAgainstTarget: true };
  const known = err.code ? BY_CODE[err.code] : undefined;
  if (known) return known;
  // Only a provider-reported failure (type upstream_error) carries a provider's kind as its code; the
  // gateway's own errors may share a name (its 413 is `request_too_large` too) and keep their meaning.
  const reported = err.type === "upstream_error" && err.code ? byProviderKind(err.code) : undefined;
  if (reported) return reported;
  // A provider 404 inside an alias is a target misconfiguration, not the caller's doing.
  if (err.code === "upstream_invalid_request" && err.status === 404)
    return { action: "next", countsAgainstTarget: false };
  return { action: "fail", countsAgainstTarget: false };
}
