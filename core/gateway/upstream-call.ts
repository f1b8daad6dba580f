import type { Readable } from "node:stream";
import { drainStream } from "../api/drain-stream.ts";
import { GatewayError, upstreamError } from "../api/errors.ts";
import { errorWithoutCredentials, withoutCredentials } from "../providers/credential-scrub.ts";
import {
  type Endpoint,
  type Transport,
  TransportError,
  type UpstreamResponse,
} from "../providers/transport.ts";
import { classify, classifyBodyError } from "../providers/transport-errors.ts";
import type { UpstreamRequest } from "../providers/types.ts";
import { transportError, upstreamStatusError } from "../providers/upstream-errors.ts";
import type { CallKind, ResolvedTarget } from "../routing/resolve.ts";
import { endpointFor } from "./target.ts";
import type { RequestContext } from "./types.ts";

/** Provider error bodies are small; anything bigger is not an error document we would echo anyway. */
const MAX_ERROR_BODY = 64 * 1024;
/** Non-stream completions and embeddings are buffered; bound them so a runaway body cannot exhaust memory. */
const MAX_RESPONSE_BODY = 64 * 1024 * 1024;

export interface UpstreamCall {
  response: UpstreamResponse;
  /** Cancels the total-time guard; call when the body has been fully consumed. */
  done(): void;
}

/**
 * Sends one request with a total-time guard and turns any non-2xx answer into the caller-facing error.
 * On success the body is still unread; the caller consumes it and then calls `done`. `callerGone`
 * aborts the call (and its body) when the caller disconnects: nobody is left to read the answer.
 */
export async function callUpstream(
  transport: Transport,
  endpoint: Endpoint,
  request: UpstreamRequest,
  callerGone?: AbortSignal,
  onUnreachable?: (failure: TransportError) => void,
): Promise<UpstreamCall> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new TransportError("total_timeout", "total timeout")),
    endpoint.timeouts.totalMs,
  );
  timer.unref?.();
  const onGone = () => controller.abort(callerGone?.reason);
  if (callerGone?.aborted) onGone();
  else callerGone?.addEventListener("abort", onGone, { once: true });
  const done = () => {
    clearTimeout(timer);
    callerGone?.removeEventListener("abort", onGone);
  };
  let response: UpstreamResponse;
  try {
    response = await transport.send(endpoint, request, controller.signal);
  } catch (err) {
    done();
    const failure = classify(err, controller.signal);
    // A caller who left aborted the call: the provider was never found wanting.
    if (failure.failure === "unreachable" && !callerGone?.aborted) onUnreachable?.(failure);
    throw transportError(endpoint.providerId, failure);
  }
  if (response.status >= 200 && response.status < 300) return { response, done };
  try {
    // An error body past the bound is not one we would echo, but its status still says whose fault it
    // was: a 400 with a huge body stays the caller's 400 (without the provider's message).
    const text = await readText(response.body, MAX_ERROR_BODY, endpoint.providerId).catch((err: unknown) => {
      if (!(err instanceof GatewayError && err.code === "upstream_too_large")) throw err;
      response.body.destroy();
      return "";
    });
    // Masked in the body as it came (before the message is cut to length), then in what was read out of
    // its JSON, where a credential written with escapes (`\u0073k-…`) is plain.
    const err = upstreamStatusError(
      endpoint.providerId,
      response.status,
      withoutCredentials(text, request.headers),
      response.headers,
    );
    throw errorWithoutCredentials(err, request.headers);
  } finally {
    done();
  }
}

/** Reads a whole body as UTF-8, mapping socket failures to gateway errors. */
export async function readText(body: Readable, limit: number, provider: string): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  try {
    await drainStream(body, (buf) => {
      size += buf.length;
      if (size > limit)
        throw upstreamError(
          `Provider '${provider}' sent a response larger than ${limit} bytes.`,
          "upstream_too_large",
        );
      parts.push(buf);
    });
  } catch (err) {
    if (err instanceof TransportError || !(err instanceof Error) || !("status" in err)) {
      throw transportError(provider, classifyBodyError(err));
    }
    throw err;
  }
  return Buffer.concat(parts).toString("utf8");
}

export { MAX_RESPONSE_BODY };

/**
 * One call to a target for a request: the target's transport and endpoint, the caller's disconnect as
 * its abort. Once it returns the provider has answered 2xx and billed the call, which the attempt
 * records (`attemptAnswered`): a failure after this still cost money (accounting.ts).
 */
export async function callTarget(
  ctx: RequestContext,
  target: ResolvedTarget,
  request: UpstreamRequest,
  callerGone: AbortSignal | undefined,
  kind: CallKind,
): Promise<UpstreamCall> {
  const { deps } = ctx;
  ctx.attemptCalled = true;
  const endpoint = endpointFor(deps, target, kind);
  const call = await callUpstream(
    deps.transports[target.provider.kind],
    // A stream's silences are timed by its translator (stream-translator.ts), which knows where its
    // first event is: before it `firstByteMs` applies, `idleMs` only between events.
    kind === "stream" ? { ...endpoint, timeouts: { ...endpoint.timeouts, idleMs: 0 } } : endpoint,
    request,
    callerGone,
    // The caller hears "could not be reached"; the operator needs the why (refused, no such host, a URL
    // or header the HTTP client would not send), which only the transport's message says.
    (failure) =>
      deps.log.warn("provider unreachable", {
        requestId: ctx.requestId,
        provider: target.provider.id,
        cause: failure.message.slice(0, 200),
      }),
  );
  ctx.attemptAnswered = true;
  if (kind === "stream" && !streamable(call.response.headers["content-type"])) {
    // Unread, so let go; undici's body reports its destruction as an error nobody else listens for.
    call.response.body.on("error", () => {});
    call.response.body.destroy();
    call.done();
    throw upstreamError(
      `Provider '${target.provider.id}' answered a stream request with a body that is not an event stream.`,
      "upstream_malformed",
    );
  }
  return call;
}

/**
 * Whether a 2xx answer to a stream request may be an event stream. A server that ignores `stream`
 * answers with one JSON document, and a captive proxy with an HTML page: neither holds an event, and
 * reading them as a stream would call them cut short. Any other type (or none) is read as SSE, since
 * OpenAI-compatible servers label their streams loosely.
 */
export function streamable(contentType: string | string[] | undefined): boolean {
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)
    ?.split(";")[0]
    ?.trim()
    .toLowerCase();
  return !(type === "application/json" || type?.endsWith("+json") || type === "text/html");
}
