import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ChatCompletionChunk } from "../api/chat-response.ts";
import { type GatewayError, toGatewayError, upstreamError, upstreamTimeout } from "../api/errors.ts";
import { createSseParser } from "../api/sse-parser.ts";
import { SSE_DONE, SSE_KEEPALIVE, sseData, sseError } from "../api/sse-writer.ts";
import {
  credentialsIn,
  mayHoldSecrets,
  valueWithoutSecrets,
  withoutCredentials,
} from "../providers/credential-scrub.ts";
import { TransportError } from "../providers/transport.ts";
import { classifyBodyError } from "../providers/transport-errors.ts";
import { providerFaultError, transportError } from "../providers/upstream-errors.ts";
import { carriesContent } from "./chunk-content.ts";
import { createEchoGuard } from "./echo-guard.ts";
import type { TranslateOptions } from "./stream-options.ts";

/**
 * Turns a provider's SSE body into the caller's OpenAI SSE stream. Resolves at the commit point: the
 * first chunk with content (carriesContent), or the end of a stream that had none. Chunks before it (a
 * role-only opener) are held back and sent with it, so every failure before it, an error event right
 * after Anthropic's `message_start` included, is still an ordinary HTTP error (and, with routing, a
 * retry or a fallback). A hold lasts at most `keepAliveMs`: a model that thinks silently for longer
 * gets its response started then, and keep-alives from there, as before. After the commit a failure
 * becomes an in-band error event followed by the end of the stream: never a silent cut.
 * Backpressure: the upstream socket pauses while the caller is slow.
 */
export function translateStream(upstream: Readable, opts: TranslateOptions): Promise<Readable> {
  let state = opts.adapter.initStream(opts.meta);
  let started = false;
  let ended = false;
  let firstChunkAt: number | undefined;
  /** Chunks produced before the commit point, sent when it comes; dropped when the attempt fails. */
  let held: ChatCompletionChunk[] = [];
  let heard = false;
  let resolveStart!: (r: Readable) => void;
  let rejectStart!: (e: GatewayError) => void;
  /** The credentials the request was sent with, masked wherever the answer repeats them. */
  const secrets = opts.requestHeaders ? credentialsIn(opts.requestHeaders) : [];
  const startPromise = new Promise<Readable>((res, rej) => {
    resolveStart = res;
    rejectStart = rej;
  });

  const out = new Readable({
    read() {
      if (!upstream.isPaused()) return;
      upstream.resume();
      // The silence while the caller did not read was ours: the provider's idle time counts from here.
      idleTimer?.refresh();
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
    // A hold as long as a keep-alive interval ends: the held chunks start the response and keep it alive.
    if (!started && held.length > 0) commit();
    // Only into an empty buffer: bytes the caller has not read yet keep nothing alive, and comments
    // piling up behind a caller that stopped reading would grow the buffer without bound.
    else if (started && out.readableLength === 0) out.push(SSE_KEEPALIVE);
    keepAlive.refresh();
  }, opts.keepAliveMs);
  // Armed at the first event: a silence past idleMs, that is no event and no comment (`: ping`); bytes
  // that never end a line are no sign of life.
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  firstTimer.unref?.();
  keepAlive.unref?.();

  const emit = (text: string) => {
    keepAlive.refresh();
    if (!out.push(text)) upstream.pause();
  };

  const deliver = (sent: ChatCompletionChunk) => {
    let chunk = sent;
    // OpenAI marks every chunk before the usage chunk `usage: null` for a caller who asked for usage.
    if (opts.includeUsage && chunk.usage === undefined) chunk.usage = null;
    // A caller who did not ask gets none, also from an OpenAI-compatible server that puts its usage on
    // the finish-reason chunk (the gateway asks every stream for it, for the bill).
    else if (!opts.includeUsage && chunk.usage !== undefined) delete chunk.usage;
    let text = sseData(chunk);
    // The credential whole in any field of the chunk as the caller gets it, escapes decoded (an id, a
    // logprobs token, a thinking block): masked there too, for the caller and the audit capture alike.
    if (mayHoldSecrets(text, secrets)) {
      chunk = valueWithoutSecrets(chunk, secrets, text.slice("data: ".length, -"\n\n".length));
      text = sseData(chunk);
    }
    opts.onChunk?.(chunk);
    emit(text);
  };

  /** The commit point: the held chunks go out and the caller gets the response. */
  const commit = () => {
    if (started) return;
    for (const chunk of held) deliver(chunk);
    held = [];
    started = true;
    firstChunkAt = opts.now();
    clearTimeout(firstTimer);
    resolveStart(out);
  };

  const hold = (chunk: ChatCompletionChunk) => {
    // The hold's bound (one keep-alive interval) counts from its first chunk.
    if (held.length === 0) keepAlive.refresh();
    held.push(chunk);
  };

  function finish(error: GatewayError | undefined, clientClosed = false) {
    // Paused by the gateway behind a caller who stopped reading (its total timeout came meanwhile).
    const callerStalled = error !== undefined && upstream.isPaused();
    ended = true;
    clearTimeout(firstTimer);
    clearTimeout(keepAlive);
    clearTimeout(idleTimer);
    upstream.removeAllListeners("data");
    upstream.on("error", () => {});
    upstream.destroy();
    const usageFinal = (state.finished && state.countPending !== true) || state.usageFinal === true;
    opts.onEnd({ usage: state.usage, usageFinal, error, firstChunkAt, clientClosed, callerStalled });
  }

  function fail(err: GatewayError) {
    if (ended) return;
    const callerLeft = opts.callerGone?.aborted === true;
    // The provider had said it was done (a finish reason and the usage after it): a connection reset or
    // a silence after that loses nothing, and the answer ends as it would have. Not while its count is
    // still to come: that stream is cut short of its bill.
    if (state.finished && state.countPending !== true && !callerLeft) {
      complete();
      return;
    }
    finish(callerLeft ? undefined : err, callerLeft);
    if (!started) {
      if (state.usage) opts.onEarlyCount?.(state.usage);
      rejectStart(err);
      return;
    }
    if (!callerLeft) {
      // The text held back is the caller's: it goes out before the error, never silently lost.
      flushHeld();
      out.push(sseError(err.toEnvelope()));
    }
    out.push(null);
  }

  // The credential echoed across deltas (echo-guard.ts): what may begin one waits for the next.
  const echoes = createEchoGuard(secrets);
  /** Text still held (a choice that never finished, a stream that broke) goes out as it is. */
  const flushHeld = () => {
    const rest = echoes.flush();
    if (rest) send(rest);
  };
  const take = (chunks: readonly ChatCompletionChunk[]) => {
    for (const raw of chunks) {
      // The usage chunk comes after every choice's text: held text goes out before it (and only before
      // it: text held across another choice-less chunk, OpenAI's moderation results, stays held).
      if (raw.choices.length === 0 && raw.usage) flushHeld();
      for (const chunk of echoes.mask(raw)) send(chunk);
    }
  };
  const send = (chunk: ChatCompletionChunk) => {
    // A chunk without choices is the usage chunk, for callers who asked for it, or OpenAI's moderation
    // chunk; one with neither (an Azure-style content-filter chunk) says nothing an OpenAI client reads.
    if (chunk.choices.length === 0 && !chunk.moderation && (!opts.includeUsage || !chunk.usage)) return;
    if (!heard) {
      heard = true;
      clearTimeout(firstTimer);
      idleTimer = setTimeout(() => {
        // Paused behind a caller who reads slowly, the provider cannot send: no silence of its own, and
        // blaming it would cut the caller's answer and count against the provider's circuit.
        if (upstream.isPaused()) idleTimer?.refresh();
        else fail(upstreamTimeout(opts.provider, "stream went silent"));
      }, opts.idleMs);
      idleTimer.unref?.();
    }
    if (started) deliver(chunk);
    else if (carriesContent(chunk)) {
      commit();
      deliver(chunk);
    } else hold(chunk);
  };

  /** An event or a comment came: the stream is not silent (bytes that never end a line are). */
  const alive = () => idleTimer?.refresh();
  const parser = createSseParser(
    (event) => {
      if (ended) return;
      alive();
      const step = opts.adapter.reduce(event, state);
      state = step.state;
      take(step.out);
      if (step.fault) {
        // The last event, cut off by the end of the stream and unreadable, is the stream cut short, not
        // a malformed event (the SSE rules would not even dispatch it).
        if (ending && step.fault.code === "upstream_malformed") return fail(truncated());
        if (!started && step.fault.declared) opts.onDeclaredFailure?.();
        const when = started ? "failed mid-stream" : "reported an error before any content";
        // Priced from the provider's count only where it is the call's whole count; a running count is
        // not (it leaves out the failed part), and the attempt then costs its worst case.
        const billed = step.fault.billed && state.usageFinal === true ? state.usage : undefined;
        const mask = (text: string) =>
          opts.requestHeaders ? withoutCredentials(text, opts.requestHeaders) : text;
        fail(
          providerFaultError(opts.provider, mask(step.fault.code), mask(step.fault.message), when, billed),
        );
      }
    },
    {
      maxEventChars: opts.maxEventChars,
      maxEventLines: opts.maxEventLines,
      onComment: alive,
      onOverflow: () =>
        fail(
          upstreamError(
            `Provider '${opts.provider}' sent a stream event past ${opts.maxEventChars} characters or ${opts.maxEventLines} lines.`,
            "upstream_too_large",
          ),
        ),
    },
  );

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
  let ending = false;
  const truncated = () =>
    upstreamError(
      `Provider '${opts.provider}' stream ${heard ? "ended before the response was complete" : "ended without sending any event"}.`,
      "upstream_truncated",
    );
  upstream.on("end", () => {
    if (ended) return;
    ending = true;
    parser.feed(`${decoder.end()}\n\n`);
    if (ended) return;
    if (!state.finished) {
      fail(truncated());
      return;
    }
    complete();
  });

  /** The stream's clean end, once the provider said it was done. */
  function complete() {
    // What the provider said last (Gemini's usage may come after its finish reason).
    take(opts.adapter.endStream?.(state) ?? []);
    flushHeld();
    // A complete answer with no content (only a finish reason, or usage): what was held goes out now.
    commit();
    out.push(SSE_DONE);
    out.push(null);
    finish(undefined);
  }
  upstream.on("error", (err) => fail(transportError(opts.provider, classifyBodyError(err))));
  // Destroyed without an error (no `end`, no `error`): without this the caller would get keep-alives forever.
  // It also follows every normal end: build the error (a stack capture) only when it is needed.
  upstream.on("close", () => {
    if (!ended)
      fail(transportError(opts.provider, new TransportError("reset", "upstream closed before it ended")));
  });

  return startPromise;
}
