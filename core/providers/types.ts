import type { ChatRequest } from "../api/chat-request.ts";
import type { ChatCompletion, ChatCompletionChunk, Embeddings, Usage } from "../api/chat-response.ts";
import type { EmbeddingEncoding } from "../api/embedding-encoding.ts";
import type { EmbeddingsRequest } from "../api/embeddings-request.ts";
import type { SseEvent } from "../api/sse-parser.ts";

export type ProviderKind = "openai" | "anthropic" | "gemini" | "mock";

/** An HTTP request for a provider, relative to the provider's base URL. Built by pure mappers. */
export interface UpstreamRequest {
  /** Path and query appended to the base URL, e.g. `/chat/completions` or `/models/x:generateContent`. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface MapContext {
  /** Provider id from the registry (used in error messages: "provider 'anthropic' ..."). */
  providerId: string;
  /** The provider's own model name, e.g. `claude-sonnet-4-5`. */
  model: string;
  apiKey: string;
}

/** Identity stamped on every chunk or completion the gateway emits for one request. */
export interface ResponseMeta {
  id: string;
  created: number;
  /** Model name reported to the caller when the provider does not name one. */
  model: string;
  /** The provider's id, which messages about its answer name (several providers may be of one kind). */
  provider: string;
  /** Choices the request asked for (`n`); 1 when unset. */
  choices?: number;
}

/** Fields every adapter's stream state carries, read by the router when the upstream stream ends. */
export interface BaseStreamState {
  meta: ResponseMeta;
  /** Provider-reported usage, once seen. Never estimated. */
  usage: Usage | undefined;
  /** True once the provider signalled a complete response (OpenAI `[DONE]`, Anthropic `message_stop`, Gemini `finishReason`). */
  finished: boolean;
  /**
   * True once `usage` is the provider's final count (OpenAI's usage chunk, Anthropic's `message_delta`):
   * a stream that breaks after it is priced from that bill rather than from a bound.
   */
  usageFinal?: boolean;
  /**
   * The provider signalled the end, but its count of what it produced is still to come (Gemini: a
   * finish reason on a chunk whose count holds no output, though the stream had some, before the chunk
   * that counts it): a stream that breaks now is cut short, not ended.
   */
  countPending?: boolean;
}

/** A failure the provider reported inside an otherwise healthy stream. */
export interface StreamFault {
  message: string;
  /** Provider's own error type when given (e.g. Anthropic `overloaded_error`). */
  code: string;
  /**
   * The provider billed the call although it failed (a 2xx answer the gateway cannot use): the attempt
   * is priced from the usage the stream reported, not taken for an error status that bills nothing.
   */
  billed?: true;
  /**
   * The provider's own error event (Anthropic's `error`, an OpenAI `{"error"}` chunk, a Gemini error
   * payload): before any content it stands for the error status it names, which bills nothing. An
   * event the gateway cannot read is no such word: the provider answered 200 and works on.
   */
  declared?: true;
}

export interface StreamStep<S> {
  out: ChatCompletionChunk[];
  state: S;
  fault?: StreamFault;
}

/** Pure, typed stream reducer: one upstream SSE event in, zero or more OpenAI chunks out. */
export type StreamReducer<S> = (event: SseEvent, state: S) => StreamStep<S>;

/**
 * One provider's wire format, as pure functions. Mappers throw GatewayError: `unsupportedParameter`
 * (400) for a request field the provider cannot honour, `upstreamError` (502) for a response that is not
 * the provider's documented shape.
 */
export interface ChatAdapter<S extends BaseStreamState> {
  toRequest(req: ChatRequest, ctx: MapContext): UpstreamRequest;
  fromResponse(body: unknown, meta: ResponseMeta): ChatCompletion;
  initStream(meta: ResponseMeta): S;
  reduce: StreamReducer<S>;
  /** Chunks due when a finished stream ends (pure): what only the whole stream knows. */
  endStream?(state: S): ChatCompletionChunk[];
}

export interface EmbeddingsAdapter {
  toRequest(req: EmbeddingsRequest, ctx: MapContext): UpstreamRequest;
  /** `encoding` is what the caller asked for; adapters whose provider returns floats only encode here. */
  fromResponse(body: unknown, meta: ResponseMeta, encoding: EmbeddingEncoding): Embeddings;
  /**
   * Whether the response counts its tokens; without it, `fromResponse` reports 0 (never an estimate)
   * and the request is billed at its upper bound. Absent: every response does.
   */
  usageReported?(body: unknown): boolean;
}
