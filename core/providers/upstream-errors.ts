import { GatewayError, NO_RETRY, upstreamError, upstreamTimeout } from "../api/errors.ts";
import type { TransportError } from "./transport.ts";

/**
 * Maps a provider's HTTP error onto what the caller should see. The rule: the caller's fault keeps its
 * status and the provider's message; the gateway's own credential problem never leaks (502); anything
 * else is the provider's fault (502 naming it and its status).
 */
export function upstreamStatusError(
  provider: string,
  status: number,
  bodyText: string,
  headers: Record<string, string | string[] | undefined>,
): GatewayError {
  const message = providerMessage(bodyText);
  if (status === 401 || status === 403) {
    // A credential does not fix itself between retries.
    return upstreamError(
      `Provider '${provider}' refused the gateway's credentials.`,
      "upstream_auth_failed",
      NO_RETRY,
    );
  }
  if (status === 429) {
    const retryAfter = headers["retry-after"];
    return new GatewayError(
      429,
      "rate_limit_error",
      message ?? `Provider '${provider}' is rate limiting requests.`,
      {
        code: "upstream_rate_limited",
        headers: typeof retryAfter === "string" ? { "retry-after": retryAfter } : {},
      },
    );
  }
  if (status === 400 || status === 404 || status === 409 || status === 413 || status === 422) {
    const outStatus = status === 422 || status === 409 ? 400 : status;
    return new GatewayError(
      outStatus,
      "invalid_request_error",
      message ?? `Provider '${provider}' rejected the request.`,
      {
        code: "upstream_invalid_request",
      },
    );
  }
  return upstreamError(`Provider '${provider}' returned HTTP ${status}.`, "upstream_http_error");
}

/** OpenAI, Anthropic and Gemini all put a human message at `error.message` of a JSON body. */
export function providerMessage(bodyText: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (typeof parsed !== "object" || parsed === null || !("error" in parsed)) return undefined;
    const error = parsed.error;
    if (
      typeof error === "object" &&
      error !== null &&
      "message" in error &&
      typeof error.message === "string"
    ) {
      return error.message.slice(0, 2000);
    }
  } catch {
    // Not JSON: the body is never echoed, it may be an HTML page from a proxy.
  }
  return undefined;
}

export function transportError(provider: string, err: TransportError): GatewayError {
  switch (err.failure) {
    case "connect_timeout":
      return upstreamTimeout(provider, "connect");
    case "first_byte_timeout":
      return upstreamTimeout(provider, "waiting for the first byte");
    case "idle_timeout":
      return upstreamTimeout(provider, "stream went silent");
    case "total_timeout":
      return upstreamTimeout(provider, "total time exceeded");
    case "reset":
      return upstreamError(`Provider '${provider}' closed the connection unexpectedly.`, "upstream_reset");
    default:
      return upstreamError(`Provider '${provider}' could not be reached.`, "upstream_unreachable");
  }
}
