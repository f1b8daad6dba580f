import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_ADMIN_BODY_BYTES } from "../../core/admin/dispatch.ts";
import { watchCaller } from "../../core/gateway/caller-signal.ts";
import type { AdminLambdaHandler } from "../admin-handler.ts";
import { answerClientError, answerExpectation, answerUnservable, readBody } from "./http-edges.ts";
import type { StreamingHandler } from "./lambda-runtime.ts";
import { type MetricsEndpoint, serveMetrics } from "./metrics-route.ts";
import { pathAndQuery, toProxyEvent } from "./proxy-event.ts";
import { nextRequestId } from "./request-id.ts";
import { NodeResponseStream } from "./response-stream.ts";

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  handler: StreamingHandler;
  /**
   * The admin function, buffered. API Gateway routes `ANY /admin/{proxy+}` to it and everything else to
   * the streaming router; this host does the same. Without it, `/admin/...` goes to the router (404).
   */
  adminHandler?: AdminLambdaHandler | undefined;
  /**
   * `GET /metrics` in Prometheus text format: a portable-mode endpoint of the host (Lambda publishes EMF
   * instead), so it is not part of the router's request path. It shows every org's spend and budgets, so
   * `authorize` admits admin keys only, and throws the error the caller gets otherwise.
   */
  metrics?: MetricsEndpoint | undefined;
  host: string;
  port: number;
  /**
   * Settles when the handlers can serve: a host may listen before it builds what they call, so that a
   * start whose port is taken fails before it has made anything. Requests wait for it; when it
   * rejects (the start failed), they are answered 500 and the host closes the server.
   */
  ready?: Promise<unknown> | undefined;
  /** How long a stop waits for requests in flight before it cuts them (DRAIN_MS unless set). */
  drainMs?: number | undefined;
  /** Bodies are read up to this many bytes plus one, so the handler itself can answer 413. */
  maxBodyBytes: number;
  /** How long a response may wait on its caller without a byte leaving before its connection is cut (FLUSH_STALL_MS unless set). */
  flushStallMs?: number | undefined;
}

const isAdminPath = (path: string) => path === "/admin" || path.startsWith("/admin/");

/** Writes a buffered proxy result as API Gateway's non-streaming integration does. */
async function serveAdmin(
  admin: AdminLambdaHandler,
  event: ReturnType<typeof toProxyEvent>,
  res: ServerResponse,
): Promise<void> {
  const out = await admin(event, { ...lambdaContext(event.requestContext.requestId), functionName: "admin" });
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) headers[k] = String(v);
  for (const [k, v] of Object.entries(out.multiValueHeaders ?? {})) headers[k] = v.map(String);
  const body = Buffer.from(out.body ?? "", out.isBase64Encoded ? "base64" : "utf8");
  res.writeHead(out.statusCode, headers);
  res.end(body);
}

/**
 * How long a stop waits for requests in flight (a stream may take minutes; an orchestrator's grace
 * period is typically 30 s, Kubernetes' default): past it, the connections still open are cut.
 */
export const DRAIN_MS = 10_000;
/**
 * How long a stop then waits for the requests it cut to wind up: a cut request's handler sees its caller
 * gone, aborts its upstream call, and logs and accounts it (its usage event is a commit away).
 */
const UNWIND_MS = 2_000;
/** How often a stopping server closes the connections whose last response has finished. */
const DRAIN_SWEEP_MS = 50;

/**
 * Serves a streaming Lambda handler (and optionally the buffered admin handler) over node:http, the way
 * API Gateway + Lambda would.
 */
export function startLocalServer(opts: LocalServerOptions): Promise<LocalServer> {
  // Requests whose handler has not returned: a stop waits for them, those it cut included.
  const handling = new Set<Promise<void>>();
  // Responses not yet begun: once a stop begins they say `connection: close`, so a keep-alive caller
  // opens its next request elsewhere instead of racing the stop's closing of idle connections.
  const unanswered = new Set<ServerResponse>();
  let stopping = false;
  // Node answers a request without Host 400 itself, bare, unless told not to (answerUnservable does).
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    if (answerUnservable(req, res)) return;
    if (stopping) res.setHeader("connection", "close");
    else unanswered.add(res);
    const work = serve(req, res);
    handling.add(work);
    void work.finally(() => handling.delete(work));
  });
  /**
   * How much of a body is read: the admin API has its own limit (core/admin/dispatch.ts), whatever
   * `maxBodyBytes` is, so that its 413 is decided on the body it would read, not on one cut short here.
   */
  const bodyLimit = (req: IncomingMessage) =>
    opts.adminHandler && isAdminPath(pathAndQuery(req.url ?? "/").pathname)
      ? MAX_ADMIN_BODY_BYTES
      : opts.maxBodyBytes;
  let serving = opts.ready === undefined;
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!serving) {
      try {
        await opts.ready;
        serving = true;
      } catch {
        return answerInternalError(res);
      }
      // A caller who left while it waited: its request ended unread, and nothing would read it now.
      if (req.destroyed || res.destroyed) {
        unanswered.delete(res);
        return;
      }
    }
    const stream = new NodeResponseStream(res, opts.flushStallMs);
    // Aborted when the caller disconnects before the response is complete: the router then aborts its
    // upstream call and stops retrying and falling back (core/gateway/attempts.ts).
    const caller = new AbortController();
    res.on("close", () => {
      unanswered.delete(res);
      if (res.writableFinished) return;
      caller.abort();
      stream.discard();
    });
    try {
      if (opts.metrics && (req.url ?? "").split("?")[0] === "/metrics")
        return await serveMetrics(opts.metrics, req, res);
      const { body, overflow } = await readBody(req, bodyLimit(req));
      if (overflow) {
        // The rest of the body stays unread: the connection ends with this response.
        res.setHeader("connection", "close");
        res.once("finish", () => req.socket.destroy());
      }
      const event = toProxyEvent(req, body);
      if (opts.adminHandler && isAdminPath(event.path))
        return await serveAdmin(opts.adminHandler, event, res);
      const forget = watchCaller(event.requestContext.requestId, caller.signal);
      try {
        await opts.handler(event, stream, lambdaContext(event.requestContext.requestId));
      } finally {
        forget();
      }
      // A handler that returned without finishing its response (its stream failed, say on a head Node
      // refused) would leave the caller waiting on an open connection until a timeout.
      if (!res.writableEnded && !res.destroyed && !caller.signal.aborted) answerInternalError(res);
    } catch {
      answerInternalError(res);
    }
  }
  server.keepAliveTimeout = 65_000;
  // `Expect: 100-continue`: a body declared over the limit is not invited (readBody answers 413 at once).
  server.on("checkContinue", (req, res) => {
    if (!(Number(req.headers["content-length"]) > bodyLimit(req))) res.writeContinue();
    server.emit("request", req, res);
  });
  // What Node's HTTP parser refuses never reaches a handler: answered in the API's envelope all the same.
  server.on("clientError", answerClientError);
  // Any other expectation than 100-continue: Node would answer a bare 417.
  server.on("checkExpectation", (_req, res) => answerExpectation(res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        // An IPv6 address goes in brackets in a URL (RFC 3986 §3.2.2): `http://[::1]:8787`.
        url: `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            // Stop taking connections, let the requests in flight finish (closing each connection
            // as it goes idle), and cut what is still open at the deadline. Then wait for the handlers
            // to return, so the requests cut are logged and accounted before the stores close.
            stopping = true;
            for (const res of unanswered) if (!res.headersSent) res.setHeader("connection", "close");
            unanswered.clear();
            server.close(() => {
              clearInterval(sweep);
              clearTimeout(deadline);
              const unwound = setTimeout(done, UNWIND_MS);
              void Promise.allSettled([...handling]).then(() => {
                clearTimeout(unwound);
                done();
              });
            });
            const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_SWEEP_MS);
            const deadline = setTimeout(() => server.closeAllConnections(), opts.drainMs ?? DRAIN_MS);
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** A 500 in the API's envelope, or a cut connection once the head has gone out. */
function answerInternalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A response the handler never began has no request id yet: it gets one, as every response does.
  res.writeHead(500, { "content-type": "application/json", "x-request-id": nextRequestId() });
  res.end(
    JSON.stringify({
      error: {
        message: "Internal gateway error.",
        type: "server_error",
        param: null,
        code: "internal_error",
      },
    }),
  );
}

function lambdaContext(requestId: string) {
  return {
    awsRequestId: requestId || randomUUID(),
    functionName: "router",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:router",
    memoryLimitInMB: "1024",
    logGroupName: "/aws/lambda/router",
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 900_000,
    done() {},
    fail() {},
    succeed() {},
  };
}
