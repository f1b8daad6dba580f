import { createServer, type Server, type Socket } from "node:net";

/**
 * The listening address, taken before the gateway is built: a start whose port is taken (or whose
 * address is not local) fails before it has changed anything — keys made and the audit signing key
 * made are kept only by a start that serves. Connections that arrive while the gateway is built wait,
 * unread (pauseOnConnect), and are served once the HTTP server takes the address over.
 */
export interface ClaimedAddress {
  readonly server: Server;
  /** Connections accepted before the HTTP server took over, oldest first; emptied by it. */
  readonly waiting: Socket[];
  /** For a start that failed after the claim: the address is freed and the waiting callers cut. */
  release(): void;
}

export function claimAddress(host: string, port: number): Promise<ClaimedAddress> {
  const waiting: Socket[] = [];
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    waiting.push(socket);
    // A caller that gives up meanwhile leaves nothing behind to serve.
    socket.once("close", () => {
      const at = waiting.indexOf(socket);
      if (at >= 0) waiting.splice(at, 1);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server,
        waiting,
        release() {
          for (const socket of waiting.splice(0)) socket.destroy();
          server.close();
        },
      });
    });
  });
}
