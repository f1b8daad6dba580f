import { createServer, type ServerResponse } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { describe, expect, it } from "vitest";
import { PRELUDE_CONTENT_TYPE, PRELUDE_DELIMITER } from "../../../functions/local/lambda-runtime.ts";
import { NodeResponseStream } from "../../../functions/local/response-stream.ts";

describe("the portable host's response stream whose last bytes wait on a caller that leaves", () => {
  it("ends only after the response's 'close', which tells the host the caller left", async () => {
    const order: string[] = [];
    let caller: ReturnType<typeof connect> | undefined;
    const server = createServer((_req, res: ServerResponse) => {
      res.on("close", () => order.push("response closed"));
      // Stands in for the earlier part of a large answer the caller has not read: the connection's
      // kernel buffers are full, so what follows stays queued (below the high-water mark: no drain wait).
      const socket = res.socket!;
      while (socket.writableLength === 0) socket.write(Buffer.alloc(4096, 98));
      const stream = new NodeResponseStream(res, 60_000);
      stream.setContentType(PRELUDE_CONTENT_TYPE);
      stream.write(JSON.stringify({ statusCode: 200 }));
      stream.write(PRELUDE_DELIMITER);
      stream.end("tail", () => order.push("stream ended"));
      // The caller leaves with the tail still queued: Node cancels the write, and calls end back first.
      setTimeout(() => caller?.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    caller = connect(port, "127.0.0.1", () => caller?.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    caller.pause();
    caller.on("error", () => {});
    await expect.poll(() => order.includes("stream ended"), { timeout: 3_000 }).toBe(true);
    expect(order).toEqual(["response closed", "stream ended"]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
