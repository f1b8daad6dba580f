import { errors, Pool } from "undici";
import type { Endpoint, Transport, TransportFailure, UpstreamResponse } from "./transport.ts";
import { TransportError } from "./transport.ts";
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

/** Maps undici and socket errors onto the few failures the router distinguishes. */
export function classify(err: unknown, signal?: AbortSignal): TransportError {
  if (err instanceof TransportError) return err;
  if (signal?.aborted && signal.reason instanceof TransportError) return signal.reason;
  let failure: TransportFailure = "unreachable";
  if (err instanceof errors.ConnectTimeoutError) failure = "connect_timeout";
  else if (err instanceof errors.HeadersTimeoutError) failure = "first_byte_timeout";
  else if (err instanceof errors.BodyTimeoutError) failure = "idle_timeout";
  else if (err instanceof errors.SocketError) failure = "reset";
  else if (typeof err === "object" && err !== null && "code" in err && err.code === "ECONNRESET")
    failure = "reset";
  return new TransportError(failure, err instanceof Error ? err.message : String(err), err);
}
