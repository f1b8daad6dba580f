import type { ServerResponse } from "node:http";
import { FramedResponseStream, PRELUDE_CONTENT_TYPE } from "./lambda-runtime.ts";
import { type Prelude, PreludeDecoder } from "./prelude-decoder.ts";

/** Decodes the handler's framed output onto a node:http response, honouring backpressure. */
export class NodeResponseStream extends FramedResponseStream {
  private readonly res: ServerResponse;
  private readonly decoder: PreludeDecoder;
  private gone = false;

  constructor(res: ServerResponse) {
    super();
    this.res = res;
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
    if (this.res.writableNeedDrain) this.once("host-drain", () => done());
    else done();
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
    this.res.end(() => done());
  }
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
