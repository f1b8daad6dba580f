import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ChatCompletionChunk, Usage } from "../api/chat-response.ts";
import { type GatewayError, toGatewayError, upstreamError, upstreamTimeout } from "../api/errors.ts";
import { createSseParser } from "../api/sse-parser.ts";
import { SSE_DONE, SSE_KEEPALIVE, sseData, sseError } from "../api/sse-writer.ts";
import { TransportError } from "../providers/transport.ts";
import { classify } from "../providers/transport-errors.ts";
import type { BaseStreamState, ChatAdapter, ResponseMeta } from "../providers/types.ts";
import { transportError } from "../providers/upstream-errors.ts";

export interface StreamEnd {
  usage: Usage | undefined;
  /** Set when the stream failed; before the first chunk the caller got it as a rejection instead. */
  error: GatewayError | undefined;
  firstChunkAt: number | undefined;
  clientClosed: boolean;
}

export interface TranslateOptions {
  adapter: ChatAdapter<BaseStreamState>;
  meta: ResponseMeta;
  provider: string;
  includeUsage: boolean;
  firstEventMs: number;
  keepAliveMs: number;
  now(): number;
  onEnd(end: StreamEnd): void;
  /** Sees every chunk sent to the caller (the service tier it names, the audit capture of sensitive orgs). */
  onChunk?: ((chunk: ChatCompletionChunk) => void) | undefined;
}

/**
 * Turns a provider's SSE body into the caller's OpenAI SSE stream. Resolves once the first chunk is
 * ready, so every failure before it is still an ordinary HTTP error (and, with routing, a fallback).
 * After the first chunk a failure becomes an in-band error event followed by the end of the stream:
 * never a silent cut. Backpressure: the upstream socket pauses while the caller is slow.
 */
export function translateStream(upstream: Readable, opts: TranslateOptions): Promise<Readable> {
  let state = opts.adapter.initStream(opts.meta);
  let started = false;
  let ended = false;
  let firstChunkAt: number | undefined;
  let resolveStart!: (r: Readable) => void;
  let rejectStart!: (e: GatewayError) => void;
  const startPromise = new Promise<Readable>((res, rej) => {
    resolveStart = res;
    rejectStart = rej;
  });

  const out = new Readable({
    read() {
      if (upstream.isPaused()) upstream.resume();
    },
    destroy(err, cb) {
      // The caller went away: stop paying for tokens nobody reads.
      if (!ended) finish(undefined, true);
      cb(err);
    },
  });

  const firstTimer = setTimeout(
    () => fail(upstreamTimeout(opts.provider, "waiting for the first event")),
    opts.firstEventMs,
  );
  const keepAlive = setTimeout(function tick() {
    if (ended) return;
    // Only into an empty buffer: bytes the caller has not read yet keep nothing alive, and comments
    // piling up behind a caller that stopped reading would grow the buffer without bound.
    if (started && out.readableLength === 0) out.push(SSE_KEEPALIVE);
    keepAlive.refresh();
  }, opts.keepAliveMs);
  firstTimer.unref?.();
  keepAlive.unref?.();

  const emit = (text: string) => {
    keepAlive.refresh();
    if (!out.push(text)) upstream.pause();
  };

  const markStarted = () => {
    if (started) return;
    started = true;
    firstChunkAt = opts.now();
    clearTimeout(firstTimer);
    resolveStart(out);
  };

  function finish(error: GatewayError | undefined, clientClosed = false) {
    ended = true;
    clearTimeout(firstTimer);
    clearTimeout(keepAlive);
    upstream.removeAllListeners("data");
    upstream.on("error", () => {});
    upstream.destroy();
    opts.onEnd({ usage: state.usage, error, firstChunkAt, clientClosed });
  }

  function fail(err: GatewayError) {
    if (ended) return;
    finish(err);
    if (!started) {
      rejectStart(err);
      return;
    }
    out.push(sseError(err.toEnvelope()));
    out.push(null);
  }

  const parser = createSseParser((event) => {
    if (ended) return;
    const step = opts.adapter.reduce(event, state);
    state = step.state;
    for (const chunk of step.out) {
      if (!opts.includeUsage && chunk.choices.length === 0) continue;
      opts.onChunk?.(chunk);
      emit(sseData(chunk));
      markStarted();
    }
    if (step.fault)
      fail(
        upstreamError(
          `Provider '${opts.provider}' failed mid-stream: ${step.fault.message}`,
          step.fault.code,
        ),
      );
  });

  // A StringDecoder, not setEncoding: undici's body ignores the latter, and a multi-byte character split
  // across two reads must be joined before parsing.
  const decoder = new StringDecoder("utf8");
  upstream.on("data", (chunk: Buffer | string) => {
    try {
      parser.feed(typeof chunk === "string" ? chunk : decoder.write(chunk));
    } catch (err) {
      fail(
        toGatewayError(err).status === 500
          ? upstreamError(`Provider '${opts.provider}' sent a malformed stream.`, "upstream_malformed")
          : toGatewayError(err),
      );
    }
  });
  upstream.on("end", () => {
    if (ended) return;
    parser.feed(`${decoder.end()}\n\n`);
    if (ended) return;
    if (!state.finished) {
      const what = started ? "ended before the response was complete" : "ended without sending any event";
      fail(upstreamError(`Provider '${opts.provider}' stream ${what}.`, "upstream_truncated"));
      return;
    }
    out.push(SSE_DONE);
    markStarted();
    out.push(null);
    finish(undefined);
  });
  upstream.on("error", (err) => fail(transportError(opts.provider, classify(err))));
  // Destroyed without an error (no `end`, no `error`): without this the caller would get keep-alives forever.
  // It also follows every normal end: build the error (a stack capture) only when it is needed.
  upstream.on("close", () => {
    if (!ended)
      fail(transportError(opts.provider, new TransportError("reset", "upstream closed before it ended")));
  });

  return startPromise;
}
