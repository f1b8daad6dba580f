import type { ChatCompletionChunk, Usage } from "../api/chat-response.ts";
import type { GatewayError } from "../api/errors.ts";
import type { BaseStreamState, ChatAdapter, ResponseMeta } from "../providers/types.ts";

export interface StreamEnd {
  usage: Usage | undefined;
  /** `usage` is the provider's final count (BaseStreamState.usageFinal, or a stream that finished). */
  usageFinal: boolean;
  /** Set when the stream failed; before the first chunk the caller got it as a rejection instead. */
  error: GatewayError | undefined;
  firstChunkAt: number | undefined;
  clientClosed: boolean;
  /**
   * The stream failed while the gateway held the provider paused behind a caller who did not read
   * (its total timeout ran out meanwhile): no fault of the provider's.
   */
  callerStalled: boolean;
}

export interface TranslateOptions {
  adapter: ChatAdapter<BaseStreamState>;
  meta: ResponseMeta;
  provider: string;
  includeUsage: boolean;
  /** How long the first event may take (from now); then `idleMs` bounds each silence between events. */
  firstEventMs: number;
  idleMs: number;
  keepAliveMs: number;
  now(): number;
  onEnd(end: StreamEnd): void;
  /** Sees every chunk sent to the caller (the service tier it names, the audit capture of sensitive orgs). */
  onChunk?: ((chunk: ChatCompletionChunk) => void) | undefined;
  /**
   * Aborted when the caller disconnects. The upstream call is aborted with it, so an upstream error
   * then is the caller leaving (`clientClosed`), not the provider failing.
   */
  callerGone?: AbortSignal | undefined;
  /**
   * The provider sent an error event before any content: it declared the call failed, as an error
   * status would have (providerFaultError), rather than breaking off a call it was working on.
   */
  onDeclaredFailure?: (() => void) | undefined;
  /**
   * The call failed before its first chunk, after the provider had counted some of it (Anthropic's
   * message_start): the count a failed attempt it billed is priced with (accounting.ts).
   */
  onEarlyCount?: ((usage: Usage) => void) | undefined;
  /**
   * The headers the request was sent with: an error event's message and kind are masked of the
   * credential among them (credential-scrub.ts) before anything is made of them (a message is cut to
   * length, a kind becomes the code), as an error status's are.
   */
  requestHeaders?: Readonly<Record<string, string>> | undefined;
  /** The most characters, and `data:` lines, one SSE event may hold (sse-parser.ts); past either it fails. */
  maxEventChars: number;
  maxEventLines: number;
}
