import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayError } from "../../core/api/errors.ts";
import { nextRequestId } from "./request-id.ts";

/**
 * The body, up to one byte past the limit, so the handler sees the overflow and answers 413. Past that
 * nothing more is read: a caller may not make the gateway take in hundreds of megabytes to be told
 * no. The bytes left unread make the connection unusable, so `overflow` asks for it to be closed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; overflow: boolean }> {
  // A body declared larger than the limit is not read at all: the handler gets one byte too many to see.
  if (Number(req.headers["content-length"]) > limit)
    return Promise.resolve({ body: Buffer.alloc(limit + 1), overflow: true });
  const parts: Buffer[] = [];
  let kept = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (overflow: boolean) => {
      settled = true;
      req.off("data", onData);
      resolve({ body: Buffer.concat(parts), overflow });
    };
    const onData = (buf: Buffer) => {
      const take = buf.subarray(0, limit + 1 - kept);
      parts.push(take);
      kept += take.length;
      if (kept > limit) {
        req.pause();
        done(true);
      }
    };
    req.on("data", onData);
    req.once("end", () => done(false));
    req.once("error", reject);
    // The caller left mid-upload: there is no request to answer.
    req.once("close", () => {
      if (!settled)
        reject(Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    });
  });
}

const MALFORMED: [number, string, string] = [400, "The request is not valid HTTP/1.1.", "malformed_request"];
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, "The request's headers are too large.", "headers_too_large"],
  // Node's headersTimeout and requestTimeout (60 s and 300 s): a caller too slow to send its request.
  ERR_HTTP_REQUEST_TIMEOUT: [408, "The request was not received in time.", "request_timeout"],
};

/**
 * What Node's HTTP parser refuses (not HTTP/1.1, headers past its limit) never reaches a handler: it is
 * answered here, in the API's error envelope all the same, and the connection closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const [status, message, code] = CLIENT_ERRORS[err.code ?? ""] ?? MALFORMED;
  const body = JSON.stringify(
    new GatewayError(status, "invalid_request_error", message, { code }).toEnvelope(),
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `x-request-id: ${nextRequestId()}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * What Node would answer itself, bare, for a request it parsed: one without the `Host` header HTTP/1.1
 * requires, or with two (RFC 9112 §3.2: 400; Node serves the latter), and one whose `Expect` asks for more than `100-continue` (RFC 9110
 * §10.1.1: 417). Answered in the API's envelope instead, and the connection closed.
 */
export function answerUnservable(req: IncomingMessage, res: ServerResponse): boolean {
  // Node keeps the first of several Host lines; RFC 9112 §3.2 asks a 400 for more than one, too.
  const hosts = req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "host").length;
  const refusal: [number, string, string] | undefined =
    (hosts === 0 && req.httpVersion === "1.1") || hosts > 1
      ? [400, "The request must have one Host header (HTTP/1.1 requires it).", "malformed_request"]
      : undefined;
  if (!refusal) return false;
  refuse(res, ...refusal);
  return true;
}

export function answerExpectation(res: ServerResponse): void {
  refuse(
    res,
    417,
    "The request's Expect header asks for what this server does not do (only 100-continue).",
    "expectation_failed",
  );
}

function refuse(res: ServerResponse, status: number, message: string, code: string): void {
  const body = JSON.stringify(
    new GatewayError(status, "invalid_request_error", message, { code }).toEnvelope(),
  );
  res.writeHead(status, {
    "content-type": "application/json",
    "x-request-id": nextRequestId(),
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}
