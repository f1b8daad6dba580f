import type { GatewayError } from "../api/errors.ts";

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
  // The gateway's credential for this provider is wrong: another provider may well work. Not the
  // provider's ill health but a setting: an open circuit would hide it behind 503 circuit_open (which
  // SDKs retry) where the caller should read upstream_auth_failed (which they do not).
  upstream_auth_failed: { action: "next", countsAgainstTarget: false },
  // The gateway's account at this provider is out of credit: another target may have credit, this one
  // will keep refusing until someone pays.
  insufficient_quota: { action: "next", countsAgainstTarget: true },
  // This target cannot honour a parameter; another target of the alias may.
  unsupported_parameter: { action: "next", countsAgainstTarget: false },
  embeddings_not_supported: { action: "next", countsAgainstTarget: false },
  // A provider's 404 for a model it does not have (OpenAI names it so): a target misconfiguration.
  model_not_found: { action: "next", countsAgainstTarget: false },
  // The caller disconnected: nobody is left to answer, and the provider did nothing wrong.
  client_closed: { action: "fail", countsAgainstTarget: false },
};

export function decide(err: GatewayError): FailureDecision {
  const code = err.routeAs ?? err.code;
  const known = code ? BY_CODE[code] : undefined;
  if (known) return known;
  // A provider 404 inside an alias is a target misconfiguration, not the caller's doing.
  if (code === "upstream_invalid_request" && err.status === 404)
    return { action: "next", countsAgainstTarget: false };
  return { action: "fail", countsAgainstTarget: false };
}
