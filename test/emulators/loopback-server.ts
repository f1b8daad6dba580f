import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Loopback {
  port: number;
  /** `http://127.0.0.1:<port>`, what the emulator's SDK clients point at. */
  endpoint: string;
  stop(): Promise<void>;
  /** Stops, then listens again on the same port, where the emulator's clients expect it. */
  restart(): Promise<void>;
}

/**
 * Starts an emulator's HTTP server on 127.0.0.1 and an ephemeral port, restartable on that same port so a
 * test can take a service away mid-run and bring it back.
 */
export async function startLoopback(server: Server): Promise<Loopback> {
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      await listen(port);
    },
  };
}
