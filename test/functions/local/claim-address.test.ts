import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { claimAddress } from "../../../functions/local/claim-address.ts";
import {
  PRELUDE_CONTENT_TYPE,
  PRELUDE_DELIMITER,
  type ResponseStream,
} from "../../../functions/local/lambda-runtime.ts";
import { type LocalServer, startLocalServer } from "../../../functions/local/server.ts";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("claimAddress: the address taken before the gateway is built", () => {
  it("fails as the listen would, while the port is taken", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const { port } = busy.address() as { port: number };
    try {
      await expect(claimAddress("127.0.0.1", port)).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      busy.close();
    }
  });

  it("holds callers who come while the gateway is built, and the server answers them once it takes over", async () => {
    const address = await claimAddress("127.0.0.1", 0);
    const { port } = address.server.address() as { port: number };
    const early = fetch(`http://127.0.0.1:${port}/v1/models`).then(async (r) => [r.status, await r.text()]);
    await expect.poll(() => address.waiting.length).toBe(1);
    server = await startLocalServer({
      handler: async (_event, stream) => {
        const s = stream as ResponseStream;
        s.setContentType(PRELUDE_CONTENT_TYPE);
        s.write(JSON.stringify({ statusCode: 200 }));
        s.write(PRELUDE_DELIMITER);
        await new Promise<void>((resolve) => s.end("served", () => resolve()));
      },
      host: "127.0.0.1",
      port,
      address,
      maxBodyBytes: 1024,
    });
    expect(server.port).toBe(port);
    expect(await early).toEqual([200, "served"]);
    expect((await fetch(`${server.url}/later`)).status).toBe(200);
  });

  it("frees the address and cuts the waiting callers when the start fails", async () => {
    const address = await claimAddress("127.0.0.1", 0);
    const { port } = address.server.address() as { port: number };
    const early = fetch(`http://127.0.0.1:${port}/`);
    await expect.poll(() => address.waiting.length).toBe(1);
    address.release();
    await expect(early).rejects.toThrow();
    const again = await claimAddress("127.0.0.1", port);
    again.release();
  });
});
