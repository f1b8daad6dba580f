import type { Readable } from "node:stream";
import type { ProviderKind, UpstreamRequest } from "./types.ts";

/** Timeouts after defaults are applied; see `timeoutsSchema` for what each bounds. */
export interface ResolvedTimeouts {
  connectMs: number;
  firstByteMs: number;
  /** 0: no idle timer in the transport (a stream's translator keeps its own). */
  idleMs: number;
  totalMs: number;
}

export interface Endpoint {
  providerId: string;
  kind: ProviderKind;
  baseUrl: string;
  timeouts: ResolvedTimeouts;
  /** The provider's configured extra headers (`providers[].headers`), sent with every call. */
  headers?: Readonly<Record<string, string>> | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** Why an upstream call failed below HTTP: drives 502 vs 504 and, later, fallback decisions. */
export type TransportFailure =
  | "connect_timeout"
  | "first_byte_timeout"
  | "idle_timeout"
  | "total_timeout"
  | "unreachable"
  | "reset";

export class TransportError extends Error {
  readonly failure: TransportFailure;
  constructor(failure: TransportFailure, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TransportError";
    this.failure = failure;
  }
}

/** The port every provider call goes through. */
export interface Transport {
  send(endpoint: Endpoint, request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse>;
}
