/** Shared node:http server machinery: request recording, fault queue, script queue, close(). */
import http from "node:http";
import type { Socket } from "node:net";
import type { Fault, RecordedRequest, Script, Simulator, SimulatorOptions } from "./types.ts";
import { DEFAULT_API_KEY } from "./types.ts";
import type { SseEvent } from "./write.ts";

/** Faults that the response writers (sendJson / writeStream) apply themselves. */
export type WriterFault = Extract<
  Fault,
  { kind: "invalid-json" | "reset-mid" | "hang-mid" | "error-mid" | "slow-start" }
>;

export interface Ctx {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly rawBody: string;
  /** Parsed JSON body; undefined when the body is empty or not JSON. */
  readonly json: unknown;
  readonly bodyBytes: number;
  readonly requestIndex: number;
  readonly opts: Required<SimulatorOptions>;
  readonly fault: WriterFault | undefined;
  /** Pop the next scripted reply (only call when producing a generation reply). */
  takeScript(): Script | undefined;
  /** setTimeout that close() cancels. */
  later(fn: () => void, ms: number): void;
  /** The provider's in-stream error event for `status` (the provider's default when undefined). */
  streamError(status: number | undefined): SseEvent;
}

export interface ProviderSpec {
  /** Path suffix appended to http://127.0.0.1:PORT to form `url`. */
  readonly basePath: string;
  readonly defaultCrlf: boolean;
  /** Headers added to every response (request ids etc.). */
  headers(ctx: Ctx): Record<string, string>;
  /** Send an error with the provider's JSON error envelope. */
  sendError(ctx: Ctx, status: number, message?: string): void;
  /** The error event the provider sends inside a 200 stream, for `status` (its default when undefined). */
  streamError(ctx: Ctx, status: number | undefined): SseEvent;
  handle(ctx: Ctx): void;
}

const HTML_PAGE =
  "<!DOCTYPE html>\n<html><head><title>Network Login</title></head>" +
  "<body><h1>Sign in to continue</h1><p>This network requires authentication.</p></body></html>\n";

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Answers a `status` fault: the provider's own error body, or the one given. */
function answerStatus(spec: ProviderSpec, ctx: Ctx, fault: Extract<Fault, { kind: "status" }>): void {
  const { res } = ctx;
  if (fault.body === undefined) {
    for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
    spec.sendError(ctx, fault.status);
    return;
  }
  const type = parseJson(fault.body) === undefined ? "text/plain; charset=utf-8" : "application/json";
  res.writeHead(fault.status, { "content-type": type, ...spec.headers(ctx), ...fault.headers });
  res.end(fault.body);
}

export async function startServer(spec: ProviderSpec, options: SimulatorOptions = {}): Promise<Simulator> {
  const opts: Required<SimulatorOptions> = {
    apiKey: options.apiKey ?? DEFAULT_API_KEY,
    crlf: options.crlf ?? spec.defaultCrlf,
    chunkChars: Math.max(1, options.chunkChars ?? 4),
  };
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const scripts: Script[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;

  const later = (fn: () => void, ms: number): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const rawBody = raw.toString("utf8");
      const json = parseJson(rawBody);
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: { ...req.headers },
        body: json === undefined ? rawBody : json,
      };
      requests.push(recorded);
      res.on("close", () => {
        if (!res.writableFinished) recorded.closedAt = Date.now();
      });
      const fault = faults.shift();
      const writerFault =
        fault &&
        (fault.kind === "invalid-json" ||
          fault.kind === "reset-mid" ||
          fault.kind === "hang-mid" ||
          fault.kind === "error-mid" ||
          fault.kind === "slow-start")
          ? fault
          : undefined;
      const ctx: Ctx = {
        req,
        res,
        url: new URL(req.url ?? "/", "http://127.0.0.1"),
        rawBody,
        json,
        bodyBytes: raw.length,
        requestIndex: counter++,
        opts,
        fault: writerFault,
        takeScript: () => scripts.shift(),
        later,
        streamError: (status) => spec.streamError(ctx, status),
      };
      const run = (): void => {
        try {
          spec.handle(ctx);
        } catch (err) {
          if (!res.headersSent) spec.sendError(ctx, 500, `simulator error: ${String(err)}`);
          else res.destroy();
        }
      };
      if (!fault || writerFault) return run();
      switch (fault.kind) {
        case "reset-before":
          req.socket.destroy();
          return;
        case "hang-before":
          return;
        case "delay":
          return later(run, fault.ms);
        case "html":
          res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...spec.headers(ctx) });
          res.end(HTML_PAGE);
          return;
        case "status":
          if (fault.afterMs === undefined) return answerStatus(spec, ctx, fault);
          return later(() => {
            if (!res.destroyed) answerStatus(spec, ctx, fault);
          }, fault.afterMs);
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("simulator: no TCP address");
  const url = `http://127.0.0.1:${addr.port}${spec.basePath}`;

  return {
    url,
    requests,
    enqueueFaults: (...f: Fault[]) => {
      faults.push(...f);
    },
    enqueueScripts: (...s: Script[]) => {
      scripts.push(...s);
    },
    reset: () => {
      requests.length = 0;
      faults.length = 0;
      scripts.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
