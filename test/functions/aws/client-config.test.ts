import { createServer, type Server, type Socket } from "node:net";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_CLIENT_CONFIG } from "../../../functions/aws/client-config.ts";

/**
 * Peers that take connections and then go silent: one never answers (a network blackhole), the other
 * sends its headers and the start of a body, then nothing.
 */
const servers: Server[] = [];
const sockets: Socket[] = [];
const endpoints: Record<"silent" | "stalled", string> = { silent: "", stalled: "" };
async function peer(onSocket: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}
beforeAll(async () => {
  endpoints.silent = await peer(() => undefined);
  endpoints.stalled = await peer((socket) =>
    socket.once("data", () =>
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 100\r\n\r\n{",
      ),
    ),
  );
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

describe("the functions' AWS client config", () => {
  it("bounds every call, which the SDK leaves unbounded", () => {
    expect(AWS_CLIENT_CONFIG.requestHandler).toEqual({
      connectionTimeout: 2_000,
      requestTimeout: 3_000,
      throwOnRequestTimeout: true,
      socketTimeout: 3_000,
    });
  });

  it.each([
    ["never comes", "silent"],
    ["stops after its headers", "stalled"],
  ] as const)("gives up on a call whose answer %s, as the SDK applies the config", async (_, kind) => {
    const client = new EventBridgeClient({
      ...AWS_CLIENT_CONFIG,
      // Shortened for the test; the shape is the config's.
      requestHandler: { ...AWS_CLIENT_CONFIG.requestHandler, requestTimeout: 300, socketTimeout: 300 },
      endpoint: endpoints[kind],
      region: "us-east-1",
      maxAttempts: 1,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const started = Date.now();
    const put = new PutEventsCommand({ Entries: [{ Source: "s", DetailType: "d", Detail: "{}" }] });
    await expect(client.send(put)).rejects.toThrow(/timed? ?out/i);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
