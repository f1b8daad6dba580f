import { Pool } from "undici";
import type { Endpoint, Transport, UpstreamResponse } from "./transport.ts";
import { classify } from "./transport-errors.ts";
import type { UpstreamRequest } from "./types.ts";

/**
 * undici keep-alive pool per provider origin. Global fetch and web streams cost most of a peer
 * gateway's CPU per request; undici's `request` with a Node stream body avoids both.
 */
export function createHttpTransport(): Transport & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();

  const poolFor = (origin: string, connectMs: number): Pool => {
    const key = `${origin}|${connectMs}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = new Pool(origin, { connect: { timeout: connectMs }, keepAliveTimeout: 30_000, pipelining: 1 });
      pools.set(key, pool);
    }
    return pool;
  };

  return {
    async send(endpoint: Endpoint, request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
      const base = new URL(endpoint.baseUrl);
      const basePath = base.pathname.replace(/\/$/, "");
      const pool = poolFor(base.origin, endpoint.timeouts.connectMs);
      try {
        const res = await pool.request({
          method: "POST",
          path: basePath + request.path,
          headers: request.headers,
          body: request.body,
          headersTimeout: endpoint.timeouts.firstByteMs,
          bodyTimeout: endpoint.timeouts.idleMs,
          signal,
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        throw classify(err, signal);
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
