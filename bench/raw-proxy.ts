import http from "node:http";
import { failChild, serveChild } from "./ipc.ts";

/**
 * The floor a gateway is measured against: a plain node:http reverse proxy that pipes request and
 * response bytes to the upstream over a keep-alive agent, with no parsing, auth or translation.
 * Usage: raw-proxy.ts <upstream base URL>.
 */
const upstream = new URL(process.argv[2] ?? "");
const agent = new http.Agent({ keepAlive: true });
// Hop-by-hop headers describe one connection; Node sets its own for each side.
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"]);

const strip = (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders => {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
};

const server = http.createServer((req, res) => {
  const up = http.request(
    {
      agent,
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...strip(req.headers), host: upstream.host },
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, strip(upRes.headers));
      upRes.pipe(res);
    },
  );
  up.on("error", () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 65_000;

server.once("error", failChild);
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  if (addr === null || typeof addr === "string") return failChild(new Error("no TCP address"));
  serveChild(`http://127.0.0.1:${addr.port}`, async () => {
    server.closeAllConnections();
    server.close();
    agent.destroy();
  });
});
