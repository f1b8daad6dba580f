import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { drainStream } from "../../../core/api/drain-stream.ts";

describe("drainStream", () => {
  it("hands over every chunk, strings as UTF-8 bytes, and resolves at the end", async () => {
    const seen: string[] = [];
    await drainStream(Readable.from(["héllo", Buffer.from(" world")], { objectMode: false }), (b) =>
      seen.push(b.toString("utf8")),
    );
    expect(seen.join("")).toBe("héllo world");
  });

  it("rejects with the stream's error", async () => {
    const s = new PassThrough();
    const done = drainStream(s, () => {});
    s.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    await expect(done).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("rejects a stream that closes without ending, as `for await` does", async () => {
    const s = new PassThrough();
    const done = drainStream(s, () => {});
    s.write("partial");
    s.destroy();
    await expect(done).rejects.toMatchObject({ code: "ERR_STREAM_PREMATURE_CLOSE" });
  });

  it("stops at a chunk the callback refuses, destroying the stream", async () => {
    const s = new PassThrough();
    const done = drainStream(s, () => {
      throw new Error("too large");
    });
    s.write("x");
    await expect(done).rejects.toThrow("too large");
    expect(s.destroyed).toBe(true);
  });
});
