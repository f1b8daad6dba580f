/** Shared types of the provider simulators (OpenAI, Anthropic, Gemini). */

export type Fault =
  /** Error status with the provider's own JSON error body unless `body` is given; after `afterMs` if set. */
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string>; afterMs?: number }
  /** 200 with an HTML page (content-type text/html), like a captive proxy. */
  | { kind: "html" }
  /** 200 application/json with a truncated body (non-stream) / a broken JSON data line as first stream event. */
  | { kind: "invalid-json" }
  /** Destroy the socket before any response bytes. */
  | { kind: "reset-before" }
  /**
   * Stream: send N events then destroy the socket (non-stream: send half the body then destroy). A
   * negative N counts from the end: -1 sends every event but the last.
   */
  | { kind: "reset-mid"; afterEvents: number }
  /** Accept, never answer (until the client gives up or close()). */
  | { kind: "hang-before" }
  /** Stream N events then go silent forever (non-stream: half the body then silence). */
  | { kind: "hang-mid"; afterEvents: number }
  /** Answer normally after `ms`. */
  | { kind: "delay"; ms: number }
  /**
   * Stream: the headers after `headersMs` (default at once), then the first event `firstEventMs` after
   * them, then the rest as usual; a provider thinking before it says anything. Non-stream: as usual.
   */
  | { kind: "slow-start"; headersMs?: number; firstEventMs: number }
  /**
   * Stream: send N events, then the provider's own in-stream error event for `status` (its error type;
   * default Anthropic 529 `overloaded_error`, OpenAI 500 `server_error`, Gemini 503 `UNAVAILABLE`), then
   * end. Non-stream replies are answered normally.
   */
  | {
      kind: "error-mid";
      afterEvents: number;
      status?: number;
      /**
       * The error quotes the credential the request carried, as a careless proxy might: in its message,
       * or as its `type`.
       */
      echoCredential?: "message" | "type";
    };

export interface ScriptToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ScriptUsage {
  /** Total prompt tokens (cached included). */
  input: number;
  /** Total output tokens (reasoning included). */
  output: number;
  cached?: number;
  reasoning?: number;
  /** Prompt tokens written to the cache, and the part of them with a 1-hour TTL (Anthropic only). */
  cacheWrite?: number;
  cacheWrite1h?: number;
  /** Prompt tokens that were audio (Gemini: its AUDIO modality; OpenAI: `audio_tokens`). */
  audio?: number;
}

export interface Script {
  text?: string;
  toolCalls?: ScriptToolCall[];
  reasoning?: string;
  finish?: "stop" | "length" | "tool_calls" | "content_filter";
  usage?: ScriptUsage;
  /** OpenAI: the project's default tier, which serves a request that asks for `auto` or none. */
  defaultTier?: string;
  /**
   * OpenAI: the message's annotations (a search model's `url_citation`s): `message.annotations`, and in
   * a stream one delta of them after the text, as search models send them. Default: none (`[]`).
   */
  annotations?: Array<Record<string, unknown>>;
  /**
   * OpenAI: how usage is reported, as OpenAI-compatible servers differ. `openai` (default): on the
   * answer, and in a stream on a last chunk without choices when asked for; `on-finish`: in a stream on
   * the finish-reason chunk when asked for, with no chunk of its own; `none`: never.
   * Gemini streams: `after-finish`: the finish-reason chunk carries the running count (the prompt
   * alone) and the full count follows in a chunk of its own; `none`: the stream ends on the running
   * count, the output never counted.
   */
  usageStyle?: "openai" | "on-finish" | "after-finish" | "none";
  /**
   * Gemini, non-stream: the candidate ends with this `finishReason` and `finishMessage` (as for
   * MALFORMED_FUNCTION_CALL); `{credential}` in the message becomes the request's x-goog-api-key.
   */
  geminiFinish?: { reason: string; message: string };
}

export interface RecordedRequest {
  method: string;
  /** Request target as received, query string included. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw string when it is not JSON. */
  body: unknown;
  /** When (epoch ms) the connection closed before the response was complete: the client gave up, or a reset fault. */
  closedAt?: number;
}

export interface Simulator {
  /** OpenAI `http://127.0.0.1:PORT/v1`; Anthropic and Gemini `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queue faults, consumed one per incoming request, in order; later requests are answered normally. */
  enqueueFaults(...faults: Fault[]): void;
  /** Script the next N generation responses (consumed one per generation reply); otherwise the default reply. */
  enqueueScripts(...scripts: Script[]): void;
  /** Clear requests, faults, scripts. */
  reset(): void;
  /** Stop listening; also destroys open and hanging sockets. */
  close(): Promise<void>;
}

export interface SimulatorOptions {
  /** The only key accepted; default DEFAULT_API_KEY. */
  apiKey?: string;
  /** `\r\n` line endings in streams (Gemini default true, others false). */
  crlf?: boolean;
  /** Characters of text per stream event (default 4). */
  chunkChars?: number;
}

export const DEFAULT_API_KEY = "test-key";
