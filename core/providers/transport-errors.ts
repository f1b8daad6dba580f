import { TransportError, type TransportFailure } from "./transport.ts";

/**
 * undici's error codes (stable, documented) and the socket errno values that mean the peer went away.
 * Matching on codes rather than undici's classes keeps undici out of everything but the transport.
 */
const BY_CODE: Record<string, TransportFailure> = {
  UND_ERR_CONNECT_TIMEOUT: "connect_timeout",
  UND_ERR_HEADERS_TIMEOUT: "first_byte_timeout",
  UND_ERR_BODY_TIMEOUT: "idle_timeout",
  UND_ERR_SOCKET: "reset",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ECONNREFUSED: "unreachable",
  ENOTFOUND: "unreachable",
  EAI_AGAIN: "unreachable",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
};

/** Maps transport and socket errors onto the few failures the router distinguishes. */
export function classify(err: unknown, signal?: AbortSignal): TransportError {
  if (err instanceof TransportError) return err;
  if (signal?.aborted && signal.reason instanceof TransportError) return signal.reason;
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const failure = BY_CODE[code] ?? "unreachable";
  return new TransportError(failure, err instanceof Error ? err.message : String(err), err);
}

/**
 * A failure while reading a response body: the provider was reached, so whatever broke is a cut
 * connection (`reset`), never `unreachable`. undici reports some cuts without a code: a connection the
 * provider announced as `connection: close` and cut mid-body is an HTTPParserError ("Invalid EOF
 * state"), as is broken chunked framing.
 */
export function classifyBodyError(err: unknown): TransportError {
  const failure = classify(err);
  if (failure.failure !== "unreachable") return failure;
  return new TransportError("reset", failure.message, err);
}
