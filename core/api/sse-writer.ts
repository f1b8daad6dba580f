import type { ErrorEnvelope } from "./errors.ts";

/** The one SSE writer: every event the gateway sends to a client is framed here. */

export const sseData = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;

export const SSE_DONE = "data: [DONE]\n\n";

/** A comment line: ignored by every SSE client, keeps proxies and load balancers from idling out. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";

/**
 * In-band error after the first byte. The OpenAI SDKs raise an APIError when a data event carries an
 * `error` object, so callers see a failure instead of a silently truncated answer.
 */
export const sseError = (envelope: ErrorEnvelope): string => sseData(envelope);
