import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** An upstream that answers every request with OpenAI's 503 error at once: a failing primary. */
export async function startBrokenUpstream(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: "The server is overloaded.", type: "server_error", param: null, code: null },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
