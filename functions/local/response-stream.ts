import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { FramedResponseStream, PRELUDE_CONTENT_TYPE } from "./lambda-runtime.ts";
import { type Prelude, PreludeDecoder } from "./prelude-decoder.ts";

/** Decodes the handler's framed output onto a node:http response, honouring backpressure. */
export class NodeResponseStream extends FramedResponseStream {
  private readonly res: ServerResponse;
  private readonly decoder: PreludeDecoder;
  private gone = false;
  private readonly flushStallMs: number;

  constructor(res: ServerResponse, flushStallMs = FLUSH_STALL_MS) {
    super();
    this.res = res;
    this.flushStallMs = flushStallMs;
    this.decoder = new PreludeDecoder(
      (p) => writeHead(res, p),
      (body) => {
        if (!res.write(body)) this.res.once("drain", () => this.emit("host-drain"));
      },
    );
    // A failed write (a head Node refuses) is the handler's to see if it listens, and the host answers
    // for it either way (answerInternalError): an 'error' nobody listens to would end the process.
    this.on("error", () => {});
  }

  /**
   * The caller has gone: what the handler still writes goes nowhere, and its end still finishes. Not a
   * destroy: end() on a destroyed stream never calls back, and middy awaits that callback (and then the
   * request's accounting) before the handler returns, so the handler would never return.
   */
  discard(): void {
    this.gone = true;
    // A write waiting for a drain the closed connection will never give.
    this.emit("host-drain");
  }

  protected writeBytes(chunk: Buffer, done: (err?: Error | null) => void): void {
    if (this.gone) {
      done();
      return;
    }
    try {
      if (!this.decoder.decoded && this.contentType !== PRELUDE_CONTENT_TYPE) {
        // Not an HTTP integration response: Lambda would send the bytes as-is with status 200. A prelude
        // saying so goes through the decoder, which then writes the head once.
        const prelude = JSON.stringify({ statusCode: 200, headers: { "content-type": this.contentType } });
        this.decoder.feed(Buffer.concat([Buffer.from(prelude), Buffer.alloc(8)]));
      }
      this.decoder.feed(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (this.res.writableNeedDrain) {
      // A caller that stopped reading gives no drain: its connection is cut once nothing leaves.
      const unwatch = watchFlush(this.res, this.flushStallMs);
      this.once("host-drain", () => {
        unwatch();
        done();
      });
    } else done();
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.gone) {
      done();
      return;
    }
    if (!this.res.headersSent) this.res.writeHead(200);
    // writeHead corks the response until the next tick. Node 24 drops every body write after the first
    // when end() comes while still corked (two writes and the end in one tick send only the first), so
    // the writes are flushed first.
    while (this.res.writableCorked > 0) this.res.uncork();
    // Done when the last byte has gone to the connection, or when the connection closed first (cut by
    // the flush watch below, or by the caller): then 'finish' never comes.
    let called = false;
    let unwatch: (() => void) | undefined;
    const finish = () => {
      if (called) return;
      called = true;
      unwatch?.();
      done();
    };
    this.res.once("close", finish);
    // An end whose last bytes were cancelled (the connection cut under them) calls back with an error
    // before the response's 'close': that one finishes it, after the host has seen the caller go.
    this.res.end((err?: Error | null) => {
      if (!err) finish();
    });
    // Bytes the kernel's buffers did not take at once wait on the caller, as does a pipelined answer
    // queued behind another: watched (most answers wait on nothing, and need no timer).
    const socket = this.res.socket;
    if (!called && (socket === null || socket.writableLength > 0))
      unwatch = watchFlush(this.res, this.flushStallMs);
  }
}

/**
 * How long a response may wait on its caller without a byte leaving before its connection is cut (checked
 * at this interval, so after one to two of them): nginx's `send_timeout` default, which likewise times
 * the gap between two successful writes, not the whole transfer. A caller that stopped reading would
 * otherwise keep its connection, and the response's bytes queued in memory, forever. Only bytes the
 * kernel's buffers could not take wait (writableNeedDrain); the kernel reports room in steps of a third of
 * the send buffer, so a steady reader of a large answer slower than about 20 KB/s may be cut, as nginx
 * would cut it.
 */
export const FLUSH_STALL_MS = 60_000;

/**
 * Cuts the response's connection once its queued bytes stop draining; returns the watch's cancel. A
 * pipelined response waits for its connection behind the one before it: watched from when it gets it.
 */
function watchFlush(res: ServerResponse, stallMs: number): () => void {
  if (res.socket) return watchSocket(res, res.socket, stallMs);
  let cancel = () => {
    res.off("socket", start);
  };
  function start(socket: Socket) {
    cancel = watchSocket(res, socket, stallMs);
  }
  res.once("socket", start);
  return () => cancel();
}

function watchSocket(res: ServerResponse, socket: Socket, stallMs: number): () => void {
  // Measured once what was just written has been handed over (writeHead corks until the next tick).
  let before = unsent(socket);
  const settle = setImmediate(() => {
    before = unsent(socket);
  });
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    if (res.writableFinished || socket.destroyed) return;
    const now = unsent(socket);
    // A byte left if either measure went down: a write the kernel completed lowers the first, a part of
    // one it took lowers the second. No new bytes come meanwhile (the writer waits for a drain, or has
    // ended).
    if (now.queued >= before.queued && now.inKernelWrite >= before.inKernelWrite) {
      // With a reset, not a close: a closed connection's unsent bytes would stay in the kernel for as
      // long as the caller keeps its end open (FIN-WAIT-1), as nginx's `reset_timedout_connection` knows.
      socket.resetAndDestroy();
      return;
    }
    before = now;
    timer = setTimeout(check, stallMs).unref();
  };
  timer = setTimeout(check, stallMs).unref();
  return () => {
    clearImmediate(settle);
    clearTimeout(timer);
  };
}

/**
 * The bytes still waiting to leave, as two measures: `queued`, the stream's (which counts a write until
 * the last of its bytes has gone, and Node hands everything queued over as one write, so it shows no
 * progress of a slow reader), and `inKernelWrite`, libuv's own queue (the handle's `writeQueueSize`,
 * internal but what Node itself reads for this), which goes down with every partial write.
 */
function unsent(socket: Socket): { queued: number; inKernelWrite: number } {
  const handle = (socket as { _handle?: { writeQueueSize?: unknown } })._handle;
  const libuv = typeof handle?.writeQueueSize === "number" ? handle.writeQueueSize : 0;
  return { queued: socket.writableLength, inKernelWrite: libuv };
}

function writeHead(res: ServerResponse, prelude: Prelude): void {
  // Head and the first body bytes (often the whole JSON body) leave in one write.
  res.cork();
  process.nextTick(() => res.uncork());
  const headers: Record<string, string | string[]> = { ...(prelude.headers ?? {}) };
  for (const [k, v] of Object.entries(prelude.multiValueHeaders ?? {})) headers[k] = v;
  if (prelude.cookies?.length) headers["set-cookie"] = prelude.cookies;
  res.writeHead(prelude.statusCode ?? 200, headers);
}
