import type { Pool } from "undici";
import request from "undici/lib/api/api-request.js";
import PoolClass from "undici/lib/dispatcher/pool.js";
import type { Endpoint, Transport, UpstreamResponse } from "./transport.ts";
import { classify } from "./transport-errors.ts";
import type { UpstreamRequest } from "./types.ts";

/**
 * undici keep-alive pool per provider origin. Global fetch and web streams cost most of a peer
 * gateway's CPU per request; undici's `request` with a Node stream body avoids both.
 *
 * Only undici's Pool and request modules are loaded, not its index: the index also loads fetch,
 * WebSocket, caches and a second llhttp build, which doubled the Lambda bundle and added ~30 ms to a
 * cold start. undici is pinned exactly, and the e2e suites exercise every path through these modules.
 */
export function createHttpTransport(): Transport & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  // A handful of base URLs, parsed once each rather than on every request.
  const bases = new Map<string, { origin: string; path: string; query: string }>();
  const baseOf = (baseUrl: string) => {
    let base = bases.get(baseUrl);
    if (!base) {
      const url = new URL(baseUrl);
      // A base URL's query (`?api-version=…`, a tenant) goes with every call, after the call's own.
      base = { origin: url.origin, path: url.pathname.replace(/\/$/, ""), query: url.search.slice(1) };
      bases.set(baseUrl, base);
    }
    return base;
  };
  const pathOf = (base: { path: string; query: string }, path: string): string => {
    const full = base.path + path;
    if (!base.query) return full;
    return `${full}${full.includes("?") ? "&" : "?"}${base.query}`;
  };

  const poolFor = (origin: string, connectMs: number): Pool => {
    const key = `${origin}|${connectMs}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = new PoolClass(origin, {
        connect: { timeout: connectMs },
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      pools.set(key, pool);
    }
    return pool;
  };

  return {
    async send(
      endpoint: Endpoint,
      upstream: UpstreamRequest,
      signal: AbortSignal,
    ): Promise<UpstreamResponse> {
      const base = baseOf(endpoint.baseUrl);
      const pool = poolFor(base.origin, endpoint.timeouts.connectMs);
      try {
        const res = await request.call(pool, {
          method: "POST",
          path: pathOf(base, upstream.path),
          headers: endpoint.headers ? { ...upstream.headers, ...endpoint.headers } : upstream.headers,
          body: upstream.body,
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
