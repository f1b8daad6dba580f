import type { ChatCompletionChunk, ChunkDelta, ChunkToolCallDelta } from "../../api/chat-response.ts";
import type { SseEvent } from "../../api/sse-parser.ts";
import type { BaseStreamState, ResponseMeta, StreamStep } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { isWireChunk, type WireChoice } from "./chunk.ts";
import { normalizeOpenAIUsage, openaiFinishReason, toChoiceLogprobs } from "./response.ts";
import { choiceLogprobs, openaiUsage } from "./wire.ts";

export interface OpenAIStreamState extends BaseStreamState {
  /** Indices of the choices that carried their finish_reason (n > 1 streams them interleaved). */
  done?: readonly number[];
}

export const initOpenAIStream = (meta: ResponseMeta): OpenAIStreamState => ({
  meta,
  usage: undefined,
  finished: false,
});

/**
 * OpenAI chunks are already our dialect; the reducer re-validates them, lifts the usage chunk into state
 * and takes `[DONE]`, or a finish_reason followed by the usage chunk (or usage on the chunk finishing
 * the last of the request's `n` choices), as proof of a complete stream. A
 * `[DONE]` after no finish_reason completes it too: OpenAI always sends one, but an OpenAI-compatible
 * server that never does would otherwise fail every stream. An `error` object mid-stream is a fault.
 */
export function reduceOpenAIStream(event: SseEvent, state: OpenAIStreamState): StreamStep<OpenAIStreamState> {
  if (event.data === "[DONE]") return { out: [], state: { ...state, finished: true } };
  let raw: unknown;
  try {
    raw = JSON.parse(event.data);
  } catch {
    return {
      out: [],
      state,
      fault: {
        message: `Provider '${state.meta.provider}' sent a malformed stream event.`,
        code: "upstream_malformed",
      },
    };
  }
  if (typeof raw === "object" && raw !== null && "error" in raw) {
    const err = (raw as { error?: { message?: unknown; type?: unknown } }).error;
    return {
      out: [],
      state,
      fault: {
        message:
          typeof err?.message === "string"
            ? err.message
            : `Provider '${state.meta.provider}' reported an error mid-stream.`,
        code: typeof err?.type === "string" ? err.type : "upstream_error",
        declared: true,
      },
    };
  }
  if (!isWireChunk(raw)) {
    return {
      out: [],
      state,
      fault: {
        message: `Provider '${state.meta.provider}' sent a chunk that is not a chat.completion.chunk.`,
        code: "upstream_malformed",
      },
    };
  }
  const c = raw;
  const usage = c.usage
    ? normalizeOpenAIUsage(parseUpstream(openaiUsage, c.usage, state.meta.provider))
    : state.usage;
  const chunk: ChatCompletionChunk = {
    id: c.id,
    object: "chat.completion.chunk",
    created: c.created,
    model: c.model,
    choices: c.choices.map((ch) => toChoice(ch, state.meta.provider)),
  };
  if (c.usage) chunk.usage = usage;
  if (typeof c.service_tier === "string") chunk.service_tier = c.service_tier;
  if (typeof c.system_fingerprint === "string") chunk.system_fingerprint = c.system_fingerprint;
  if (typeof c.moderation === "object" && c.moderation !== null && !Array.isArray(c.moderation))
    chunk.moderation = c.moderation as Record<string, unknown>;
  const done = doneChoices(state.done, c.choices);
  const stopped = done !== undefined;
  // OpenAI's usage chunk (no choices) is its last word on the bill. An OpenAI-compatible server that
  // sends a running count on every chunk does so beside choices, and one that puts the bill on the chunk
  // finishing the last choice does too: once every choice asked for has finished, nothing is left to
  // generate, so that count is the last.
  const lastFinish =
    c.usage != null && c.choices.length > 0 && (done?.length ?? 0) >= (state.meta.choices ?? 1);
  const usageFinal = state.usageFinal === true || (c.usage != null && c.choices.length === 0) || lastFinish;
  // The finish reason and then the usage (its own chunk, or the last finishing one): the answer and its
  // bill are whole, so a connection that closes before `[DONE]` loses nothing (the gateway asks every
  // OpenAI stream for usage).
  const finished = state.finished || (stopped && usageFinal && (c.choices.length === 0 || lastFinish));
  return {
    out: [chunk],
    state: {
      ...state,
      usage,
      finished,
      ...(done !== undefined ? { done } : {}),
      ...(usageFinal ? { usageFinal } : {}),
    },
  };
}

/** The choices finished after a chunk: undefined until one is (most chunks change nothing). */
function doneChoices(
  before: readonly number[] | undefined,
  choices: readonly WireChoice[],
): readonly number[] | undefined {
  let done = before;
  for (const ch of choices)
    if (ch.finish_reason != null && !done?.includes(ch.index)) done = [...(done ?? []), ch.index];
  return done;
}

/** Builds the outgoing choice field by field: this runs for every chunk, so no spreads. */
function toChoice(ch: WireChoice, provider: string): ChatCompletionChunk["choices"][number] {
  const d = ch.delta;
  const delta: ChunkDelta = {};
  if (d) {
    if (d.role === "assistant") delta.role = "assistant";
    if (d.content != null) delta.content = d.content;
    if (d.refusal != null) delta.refusal = d.refusal;
    if (d.annotations) delta.annotations = d.annotations;
    if (d.tool_calls?.length) {
      delta.tool_calls = d.tool_calls.map((t) => {
        const out: ChunkToolCallDelta = {
          index: t.index,
          function: { arguments: t.function?.arguments ?? "" },
        };
        if (t.id) {
          out.id = t.id;
          out.type = "function";
        }
        if (t.function?.name) out.function.name = t.function.name;
        return out;
      });
    }
  }
  // Log probabilities come only to a caller who asked; they are checked then, not on every chunk.
  const logprobs =
    ch.logprobs == null ? null : toChoiceLogprobs(parseUpstream(choiceLogprobs, ch.logprobs, provider));
  return { index: ch.index, delta, finish_reason: openaiFinishReason(ch.finish_reason), logprobs };
}
