import { createServer, type Server, type Socket } from "node:net";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_CLIENT_CONFIG } from "../../../functions/aws/client-config.ts";

/** A peer that takes connections and never answers: what a network blackhole looks like to a client. */
let blackhole: Server;
const sockets: Socket[] = [];
let endpoint = "";
beforeAll(async () => {
  blackhole = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
  const address = blackhole.address();
  endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  blackhole.close();
});

describe("the functions' AWS client config", () => {
  it("bounds every call, which the SDK leaves unbounded", () => {
    expect(AWS_CLIENT_CONFIG.requestHandler).toEqual({
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
    });
  });

  it("gives up on a call whose answer never comes, as the SDK applies its request timeout", async () => {
    const client = new EventBridgeClient({
      ...AWS_CLIENT_CONFIG,
      // Shortened for the test; the shape is the config's.
      requestHandler: { ...AWS_CLIENT_CONFIG.requestHandler, requestTimeout: 300 },
      endpoint,
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
