/**
 * OpenAI Chat Completions response shapes the gateway emits. These are outputs, built by our own
 * mappers, so they are plain types rather than zod schemas.
 */

/** `function_call` only for requests in OpenAI's deprecated function-calling form. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: {
    cached_tokens: number;
    /**
     * Prompt tokens the provider wrote to its cache, present only when non-zero: OpenAI's own field
     * (`cache_write_tokens`), also filled from Anthropic's `cache_creation_input_tokens`, which Anthropic
     * bills above the input price; and a gateway extension, the part of them written with a 1-hour TTL,
     * billed higher still.
     */
    cache_write_tokens?: number;
    cache_write_1h_tokens?: number;
    /** OpenAI's other counts (audio tokens), passed on as OpenAI sent them. */
    [detail: string]: number | undefined;
  };
  completion_tokens_details?: {
    reasoning_tokens: number;
    /** OpenAI's other counts (audio, accepted and rejected prediction tokens), passed on as sent. */
    [detail: string]: number | undefined;
  };
}

/** Anthropic's reasoning, as it must come back before the tool calls it led to (extended thinking). */
export type AnthropicThinkingBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string };

/**
 * Provider state a tool call carries for its replay, in the shape Google's own OpenAI-compatible
 * endpoint uses: Gemini's thought signature, which Gemini 3 requires back on the call in the next turn,
 * and the Anthropic thinking blocks that preceded the call (since the turn's start, or since the call
 * before with interleaved thinking), which Anthropic requires back, in order, while thinking is on.
 * Clients that append the assistant message to the history unchanged send it back as it is.
 */
export interface ToolCallExtraContent {
  google?: { thought_signature: string };
  anthropic?: { thinking_blocks: AnthropicThinkingBlock[] };
}

export interface ResponseToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  extra_content?: ToolCallExtraContent;
}

/** One token's log probability, with the most likely alternatives (OpenAI's `logprobs` / `top_logprobs`). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

/** A choice's log probabilities, when the caller asked OpenAI for them; otherwise null. */
export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal: TokenLogprob[] | null;
}

/**
 * An OpenAI message annotation, e.g. a search model's `url_citation`
 * (`{type: "url_citation", url_citation: {start_index, end_index, url, title}}`). Passed on as OpenAI sent
 * it: only `type` is known, so an annotation type OpenAI adds later reaches the caller too.
 */
export interface Annotation {
  type: string;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      refusal: string | null;
      /** OpenAI's annotations (citations of a search model), as OpenAI sent them. */
      annotations?: Annotation[];
      tool_calls?: ResponseToolCall[];
      /** The call, for requests in OpenAI's deprecated function-calling form (in place of tool_calls). */
      function_call?: { name: string; arguments: string };
    };
    finish_reason: FinishReason;
    logprobs: ChoiceLogprobs | null;
  }>;
  /**
   * Absent when the provider's answer carried no usage (an OpenAI-compatible server, a Gemini answer
   * without usageMetadata): OpenAI's own SDK types it optional, and zeros would be a count nobody made,
   * billing the request $0 (accounting.ts charges it its worst case instead).
   */
  usage?: Usage;
  system_fingerprint?: string | null;
  /** OpenAI's: the tier that processed the request (`default`, `flex`, `priority`…), as OpenAI said. */
  service_tier?: string | null;
  /** OpenAI's moderated completions: the results for the input and the output, as OpenAI gave them. */
  moderation?: Record<string, unknown> | null;
}

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
  extra_content?: ToolCallExtraContent;
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  refusal?: string | null;
  /** OpenAI's annotations, on the delta OpenAI sent them with. */
  annotations?: Annotation[];
  tool_calls?: ChunkToolCallDelta[];
  /** The call's pieces, for requests in OpenAI's deprecated function-calling form. */
  function_call?: { name?: string; arguments: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: ChunkDelta;
    finish_reason: FinishReason | null;
    logprobs: ChoiceLogprobs | null;
  }>;
  usage?: Usage | null;
  service_tier?: string | null;
  system_fingerprint?: string | null;
  /** On OpenAI's moderation chunk (no choices) of a moderated completion, as OpenAI gave it. */
  moderation?: Record<string, unknown>;
}

export interface Embeddings {
  object: "list";
  data: Array<{ object: "embedding"; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Cache writes as a provider reports them: the total and its 1-hour part. */
export interface CacheWrites {
  total: number;
  oneHour: number;
}

/**
 * Builds an OpenAI usage object; details are included only when the provider reported them (cache
 * writes only when there were some, so a response without them is plain OpenAI).
 */
export function usage(
  prompt: number,
  completion: number,
  cached?: number | undefined,
  reasoning?: number | undefined,
  writes?: CacheWrites,
): Usage {
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (writes && writes.total > 0) {
    out.prompt_tokens_details = { cached_tokens: cached ?? 0, cache_write_tokens: writes.total };
    if (writes.oneHour > 0) out.prompt_tokens_details.cache_write_1h_tokens = writes.oneHour;
  } else if (cached !== undefined) out.prompt_tokens_details = { cached_tokens: cached };
  if (reasoning !== undefined) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}
