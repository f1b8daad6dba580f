import { isStoreThrottled, isStoreUnavailable, StoreBusyError } from "../storage/errors.ts";
import type { Usage } from "./chat-response.ts";

/**
 * The one error hierarchy. Every failure a caller can see is a GatewayError and renders as the OpenAI
 * envelope `{"error":{"message","type","param","code"}}` with `status`.
 */

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  // OpenAI's rate-limit refusals name the limit in `type` (with code `rate_limit_exceeded`).
  | "requests"
  | "tokens"
  | "upstream_error"
  | "timeout_error"
  | "server_error";

export interface ErrorEnvelope {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers, e.g. `retry-after` carried from a provider 429. */
  readonly headers: Record<string, string>;
  /**
   * The gateway's own code for routing when `code` is a provider's, passed on to the caller (OpenAI's
   * `unsupported_parameter`, say): routing decides on codes the gateway gives, never on a provider's.
   */
  readonly routeAs: string | null;
  /**
   * What the provider billed for the call that failed so, when it said (a 2xx answer the gateway
   * could not use, such as Gemini's MALFORMED_FUNCTION_CALL with its usageMetadata): the failed
   * attempt is priced from it rather than from its worst case.
   */
  readonly billedUsage: Usage | undefined;

  constructor(
    status: number,
    type: ErrorType,
    message: string,
    opts: {
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
      routeAs?: string;
      billedUsage?: Usage | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "GatewayError";
    this.status = status;
    this.type = type;
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.headers = opts.headers ?? {};
    this.routeAs = opts.routeAs ?? null;
    this.billedUsage = opts.billedUsage;
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A request the gateway refuses as invalid; without a more precise code, `invalid_request_body`. */
export const badRequest = (message: string, param: string | null = null, code = "invalid_request_body") =>
  new GatewayError(400, "invalid_request_error", message, { param, code });

/** A parameter the target provider cannot honour: refused, never silently dropped. */
export const unsupportedParameter = (provider: string, param: string, detail = "") =>
  new GatewayError(
    400,
    "invalid_request_error",
    `Parameter '${param}' is not supported by provider '${provider}'${detail ? `: ${detail}` : "."}`,
    { param, code: "unsupported_parameter" },
  );

export const unauthorized = (message: string) =>
  new GatewayError(401, "authentication_error", message, { code: "invalid_api_key" });

export const forbidden = (message: string, code: string, param: string | null = null) =>
  new GatewayError(403, "permission_error", message, { code, param });

export const notFound = (message: string, code: string, param: string | null = null) =>
  new GatewayError(404, "invalid_request_error", message, { code, param });

/** The provider answered, but not with something we can use (bad status, HTML, broken JSON or SSE). */
/**
 * The header OpenAI's SDKs obey over their own retry rules (`x-should-retry: false`): they otherwise
 * retry every 429 and 5xx twice, with backoff, which only delays a refusal that cannot change.
 */
export const NO_RETRY: Readonly<Record<string, string>> = { "x-should-retry": "false" };

export const upstreamError = (
  message: string,
  code = "upstream_error",
  headers: Record<string, string> = {},
) => new GatewayError(502, "upstream_error", message, { code, headers });

export const upstreamTimeout = (provider: string, phase: string) =>
  new GatewayError(504, "timeout_error", `Provider '${provider}' timed out (${phase}).`, {
    code: "upstream_timeout",
  });

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof StoreBusyError || isStoreThrottled(err))
    return new GatewayError(503, "server_error", "The gateway's store is busy; retry shortly.", {
      code: "store_busy",
      headers: { "retry-after": "1" },
      cause: err,
    });
  if (isStoreUnavailable(err))
    return new GatewayError(503, "server_error", "The gateway's store is unavailable; retry shortly.", {
      code: "store_unavailable",
      headers: { "retry-after": "1" },
      cause: err,
    });
  return new GatewayError(500, "server_error", "Internal gateway error.", {
    code: "internal_error",
    cause: err,
  });
}
