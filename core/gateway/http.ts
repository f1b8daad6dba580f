import type { ErrorEnvelope } from "../api/errors.ts";
import { GatewayError, toGatewayError } from "../api/errors.ts";
import type { GatewayResponse } from "./types.ts";

export const JSON_HEADERS = { "content-type": "application/json" } as const;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Tells nginx-style proxies not to buffer the stream.
  "x-accel-buffering": "no",
} as const;

/** Buffered JSON responses carry their length, so hosts can send them without chunked framing. */
export function json(statusCode: number, body: unknown, headers: Record<string, string>): GatewayResponse {
  const text = JSON.stringify(body);
  return {
    statusCode,
    headers: { ...headers, ...JSON_HEADERS, "content-length": String(Buffer.byteLength(text)) },
    body: text,
  };
}

export function errorResponse(err: unknown, headers: Record<string, string>): GatewayResponse {
  const e = toGatewayError(err);
  const envelope: ErrorEnvelope = e.toEnvelope();
  return json(e.status, envelope, { ...headers, ...e.headers });
}

/**
 * Lower-cased single-value headers: API Gateway REST passes them in the client's case. Its `headers`
 * hold only the last of a header sent more than once; `multiValueHeaders` hold all, and a header sent
 * more than once (in any case) is its distinct values joined by ", ", as RFC 9110 §5.3 combines field
 * lines. So two different `Authorization` headers authenticate neither (a proxy that read the first
 * would disagree with the gateway about who called), and two different content types are no content
 * type; the same line twice is that line.
 */
export function normalizeHeaders(
  raw: Record<string, string | undefined> | null | undefined,
  multi?: Record<string, string[] | undefined> | null,
): Record<string, string> {
  // No prototype: a header named `__proto__` or `constructor` is stored, not inherited or assigned past.
  const out: Record<string, string> = Object.create(null);
  if (!raw) return out;
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) out[k.toLowerCase()] = v;
  if (!multi) return out;
  const all = new Map<string, string[]>();
  for (const [k, values] of Object.entries(multi)) {
    if (!values?.length) continue;
    const name = k.toLowerCase();
    const seen = all.get(name);
    all.set(name, seen ? [...seen, ...values] : values);
  }
  for (const [name, values] of all) {
    // The same line twice (a proxy that adds what the client sent) says nothing new.
    if (values.length > 1) out[name] = [...new Set(values)].join(", ");
  }
  return out;
}

/**
 * A value as a response header can carry it: visible ASCII as it is, anything else percent-encoded.
 * Model names are whatever a caller or an admin typed, and Node (as HTTP) refuses control characters
 * and anything above U+00FF: a refused head would leave the response unsent. A `%` is encoded too, so
 * that a value as sent and an encoded one cannot be told for each other.
 */
export const headerValue = (value: string): string =>
  /^[\t\x20-\x24\x26-\x7e]*$/.test(value) ? value : encodeURIComponent(value);

export { GatewayError };
