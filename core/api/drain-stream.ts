import type { Readable } from "node:stream";

/**
 * Feeds every chunk of `stream` to `each` and resolves at its end. Plain 'data' events rather than
 * `for await`: the async iterator costs a promise per chunk and shows on the request path's profile.
 * A stream that closes without ending (the peer went away) rejects with ERR_STREAM_PREMATURE_CLOSE, as
 * `for await` would. `each` may destroy the stream and throw to stop early; the throw rejects.
 */
export function drainStream(stream: Readable, each: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Buffer | string) => {
      try {
        each(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      } catch (err) {
        stream.destroy();
        reject(err);
      }
    });
    let ended = false;
    stream.once("end", () => {
      ended = true;
      resolve();
    });
    stream.once("error", reject);
    // 'close' follows 'end' on every stream: build the error (a stack capture) only when it is needed.
    stream.once("close", () => {
      if (!ended) reject(Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    });
  });
}
