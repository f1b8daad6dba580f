import { Writable } from "node:stream";

/**
 * A stand-in for the two `awslambda` globals a streaming handler uses, speaking the runtime's real
 * framing: `HttpResponseStream.from` makes the first write emit the JSON prelude followed by 8 NUL
 * bytes, then the body. The host decodes that framing exactly as Lambda's front end does.
 */
export const PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
export const PRELUDE_DELIMITER = Buffer.alloc(8);
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");

export type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

/** A response stream that can carry the prelude hook, as the runtime's own does. */
export interface ResponseStream extends Writable {
  setContentType(type: string): void;
  beforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
}

export function isStreaming(fn: unknown): fn is StreamingHandler {
  return typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[STREAMING] === "response";
}

interface AwsLambdaGlobal {
  streamifyResponse(fn: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: ResponseStream, prelude: Record<string, unknown>): ResponseStream };
}

/**
 * Installs the stand-ins next to whatever `awslambda` already holds: the AWS SDK creates the global
 * itself (for its invoke store), so its presence does not mean the runtime's functions are there.
 */
export function installLambdaRuntime(): void {
  const g = globalThis as unknown as { awslambda?: Partial<AwsLambdaGlobal> };
  g.awslambda ??= {};
  const lambda = g.awslambda;
  lambda.streamifyResponse ??= (fn) => {
    Object.defineProperty(fn, STREAMING, { value: "response" });
    return fn;
  };
  lambda.HttpResponseStream ??= {
    from(stream, prelude) {
      stream.setContentType(PRELUDE_CONTENT_TYPE);
      const json = JSON.stringify(prelude);
      stream.beforeFirstWrite = (write) => {
        write(json);
        write(PRELUDE_DELIMITER);
      };
      return stream;
    },
  };
}

/** Base class for the host's response streams: runs the prelude hook on the first write. */
export abstract class FramedResponseStream extends Writable implements ResponseStream {
  contentType = "application/octet-stream";
  beforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
  private first = true;

  setContentType(type: string): void {
    this.contentType = type;
  }

  protected abstract writeBytes(chunk: Buffer, done: (err?: Error | null) => void): void;

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.first) {
      this.first = false;
      const hook = this.beforeFirstWrite;
      if (hook) {
        const head: Buffer[] = [];
        hook((c) => head.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c)));
        this.writeBytes(Buffer.concat([...head, buf]), done);
        return;
      }
    }
    this.writeBytes(buf, done);
  }
}
