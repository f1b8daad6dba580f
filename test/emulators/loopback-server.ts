import type { Server } from "node:http";

/**
 * Listen and stop for an emulator's HTTP server on 127.0.0.1, restartable on the same port so a test can
 * take a service away mid-run and bring it back where its clients expect it.
 */
export function loopback(server: Server) {
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
  return { listen, stop };
}
