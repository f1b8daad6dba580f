import type { Usage } from "../api/chat-response.ts";
import { GatewayError, NO_RETRY, upstreamError, upstreamTimeout } from "../api/errors.ts";
import type { TransportError } from "./transport.ts";

/** RFC 9110 §10.2.3: delay-seconds, or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`). */
const RETRY_AFTER = /^(?:\d+|[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)$/;

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
  const error = providerError(bodyText);
  const message = providerMessage(bodyText);
  if (status === 401 || status === 403 || refusedKey(error)) {
    // A credential does not fix itself between retries.
    return upstreamError(
      `Provider '${provider}' refused the gateway's credentials.`,
      "upstream_auth_failed",
      NO_RETRY,
    );
  }
  if (outOfCredit(status, error, message))
    // The gateway's account is out of credit (whatever the provider calls it): OpenAI's own answer to
    // that, a 429 `insufficient_quota` no retry in the SDK's backoff window wins back.
    return new GatewayError(
      429,
      "rate_limit_error",
      message ?? `Provider '${provider}' says the gateway's account is out of credit.`,
      { code: "insufficient_quota", headers: NO_RETRY },
    );
  if (status === 429) {
    // Gemini's hint stands in for headers only when the provider sent neither.
    const hinted =
      headers["retry-after"] === undefined && headers["retry-after-ms"] === undefined
        ? retryInfoDelay(error)
        : undefined;
    const hint = (value: number) => (hinted === undefined ? undefined : String(value));
    const retryAfter = headers["retry-after"] ?? hint(Math.ceil((hinted ?? 0) / 1000));
    const retryAfterMs = headers["retry-after-ms"] ?? hint(hinted ?? 0);
    return new GatewayError(
      429,
      "rate_limit_error",
      message ?? `Provider '${provider}' is rate limiting requests.`,
      {
        code: "upstream_rate_limited",
        // Passed on only as the numbers or HTTP date they should be: a header is the provider's text,
        // and a proxy that echoes request headers could put a credential in it.
        headers: {
          ...(typeof retryAfter === "string" && RETRY_AFTER.test(retryAfter)
            ? { "retry-after": retryAfter }
            : {}),
          ...(typeof retryAfterMs === "string" && /^\d+(?:\.\d+)?$/.test(retryAfterMs)
            ? { "retry-after-ms": retryAfterMs }
            : {}),
        },
      },
    );
  }
  if (status === 400 || status === 404 || status === 409 || status === 413 || status === 422) {
    const outStatus = status === 422 || status === 409 ? 400 : status;
    return new GatewayError(
      outStatus,
      "invalid_request_error",
      message ?? `Provider '${provider}' rejected the request.`,
      // OpenAI names the field at fault (`messages[0].content`); OpenAI gets the caller's request as it
      // is, so the path is the caller's too. Anthropic and Gemini name none.
      {
        code: invalidRequestCode(status, error, message),
        param: typeof error?.param === "string" ? error.param.slice(0, 256) : null,
        // Whatever the code says, routing reads a provider's invalid request as one.
        routeAs:
          status === 404 && missingModel(error, message) ? "model_not_found" : "upstream_invalid_request",
      },
    );
  }
  return upstreamError(`Provider '${provider}' returned HTTP ${status}.`, "upstream_http_error");
}

/**
 * The code of a provider's invalid-request error, as an OpenAI client reads it: OpenAI's own code when
 * it gave one (`context_length_exceeded`, `invalid_image_url`: clients act on them); a model the
 * provider does not have, or a prompt past the model's context window, by OpenAI's names whoever said
 * it; `upstream_invalid_request` otherwise.
 */
function invalidRequestCode(
  status: number,
  error: Record<string, unknown> | undefined,
  message: string | undefined,
): string {
  if (status === 404 && missingModel(error, message)) return "model_not_found";
  if (typeof error?.code === "string" && OPENAI_CODE.test(error.code)) return error.code;
  // Anthropic: "prompt is too long: 208310 tokens > 200000 maximum", "input length and `max_tokens`
  // exceed context limit: …"; Gemini: "The input token count (1234567) exceeds the maximum number of
  // tokens allowed (1048576)."
  if (/prompt is too long|exceed context limit|input token count .*exceeds the maximum/i.test(message ?? ""))
    return "context_length_exceeded";
  return "upstream_invalid_request";
}

/** What an OpenAI error code looks like (snake_case words); anything else is not passed on. */
const OPENAI_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Out of credit at the provider: OpenAI's `insufficient_quota` (a 429), Anthropic's `billing_error`
 * (a 402) and its 400 "Your credit balance is too low to access the Anthropic API".
 */
function outOfCredit(
  status: number,
  error: Record<string, unknown> | undefined,
  message: string | undefined,
): boolean {
  if (error?.code === "insufficient_quota" || error?.type === "insufficient_quota") return true;
  if (status === 402 || error?.type === "billing_error") return true;
  return status === 400 && /credit balance is too low/i.test(message ?? "");
}

/**
 * Gemini's retry hint: no Retry-After header, but a `google.rpc.RetryInfo` detail in the error body
 * whose `retryDelay` is a protobuf Duration in JSON ("2s", "0.500s"). In milliseconds, if any.
 */
function retryInfoDelay(error: Record<string, unknown> | undefined): number | undefined {
  const details = error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (typeof d !== "object" || d === null) continue;
    const { "@type": type, retryDelay } = d as Record<string, unknown>;
    if (typeof type !== "string" || !type.endsWith("google.rpc.RetryInfo")) continue;
    const seconds =
      typeof retryDelay === "string" ? /^(\d{1,9}(?:\.\d{1,9})?)s$/.exec(retryDelay)?.[1] : undefined;
    if (seconds !== undefined) return Math.round(Number(seconds) * 1000);
  }
  return undefined;
}

/**
 * A provider's 404 for the model: OpenAI names it (`code: model_not_found`); Anthropic's `not_found_error`
 * and Gemini's `NOT_FOUND` say it in the message ("model: claude-x", "models/gemini-x is not found"). A
 * 404 for anything else (a base URL missing its `/v1`) stays the provider's invalid request.
 */
function missingModel(error: Record<string, unknown> | undefined, message: string | undefined): boolean {
  if (error?.code === "model_not_found") return true;
  const notFound =
    error?.type === "not_found_error" || error?.status === "NOT_FOUND" || error?.type === "NOT_FOUND";
  return notFound && /\bmodels?\b/i.test(message ?? "");
}

/**
 * Gemini answers a bad API key with 400 INVALID_ARGUMENT, naming the reason in its details
 * (`API_KEY_INVALID`): the gateway's credential, not the caller's request, as a 401 would say.
 */
function refusedKey(error: Record<string, unknown> | undefined): boolean {
  const details = error?.details;
  return (
    Array.isArray(details) &&
    details.some(
      (d) => typeof d === "object" && d !== null && (d as { reason?: unknown }).reason === "API_KEY_INVALID",
    )
  );
}

/** The `error` object of a JSON error body (OpenAI, Anthropic and Gemini all send one), if any. */
function providerError(bodyText: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (typeof parsed !== "object" || parsed === null || !("error" in parsed)) return undefined;
    const error = parsed.error;
    return typeof error === "object" && error !== null ? (error as Record<string, unknown>) : undefined;
  } catch {
    // Not JSON: the body is never echoed, it may be an HTML page from a proxy.
    return undefined;
  }
}

/** OpenAI, Anthropic and Gemini all put a human message at `error.message` of a JSON body. */
export function providerMessage(bodyText: string): string | undefined {
  const message = providerError(bodyText)?.message;
  return typeof message === "string" ? message.slice(0, 2000) : undefined;
}

/**
 * The HTTP status a provider's own error kind stands for. An error event inside a 200 stream names no
 * status, only a kind: Anthropic's and OpenAI's `error.type`, Gemini's `error.status` (a google.rpc
 * code name).
 */
const PROVIDER_ERROR_STATUS: Readonly<Record<string, number>> = {
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

/**
 * An error event a provider sent inside a 200 stream, as the error its HTTP status would have been
 * (upstreamStatusError): the caller gets the same status, code and headers, and routing decides the
 * same way, as if the provider had answered with that status.
 */
export function providerFaultError(
  provider: string,
  kind: string,
  message: string,
  when: string,
  /** The usage of a call the provider billed though it failed (StreamFault.billed). */
  billedUsage?: Usage,
): GatewayError {
  const status = PROVIDER_ERROR_STATUS[kind];
  if (status !== undefined && status < 500)
    return upstreamStatusError(provider, status, JSON.stringify({ error: { message, type: kind } }), {});
  // A provider failure (5xx) keeps the provider's message; a kind no table knows (the gateway's own,
  // `upstream_malformed` for a chunk it could not read, or one no provider documents yet) stays the code.
  const code = status === undefined ? kind : "upstream_http_error";
  return new GatewayError(502, "upstream_error", `Provider '${provider}' ${when}: ${message}`, {
    code,
    billedUsage,
  });
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
