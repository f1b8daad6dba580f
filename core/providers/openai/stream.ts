import type { ChatCompletionChunk } from "../../api/chat-response.ts";
import type { SseEvent } from "../../api/sse-parser.ts";
import type { BaseStreamState, ResponseMeta, StreamStep } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { normalizeOpenAIUsage, openaiFinishReason } from "./response.ts";
import { openaiChunk } from "./wire.ts";

export type OpenAIStreamState = BaseStreamState;

export const initOpenAIStream = (meta: ResponseMeta): OpenAIStreamState => ({
  meta,
  usage: undefined,
  finished: false,
});

/**
 * OpenAI chunks are already our dialect; the reducer re-validates them, lifts the usage chunk into state
 * and treats `[DONE]` as the only proof of a complete stream. An `error` object mid-stream is a fault.
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
      fault: { message: "Provider 'openai' sent a malformed stream event.", code: "upstream_malformed" },
    };
  }
  if (typeof raw === "object" && raw !== null && "error" in raw) {
    const err = (raw as { error?: { message?: unknown; type?: unknown } }).error;
    return {
      out: [],
      state,
      fault: {
        message:
          typeof err?.message === "string" ? err.message : "Provider 'openai' reported an error mid-stream.",
        code: typeof err?.type === "string" ? err.type : "upstream_error",
      },
    };
  }
  const c = parseUpstream(openaiChunk, raw, "openai");
  const usage = c.usage ? normalizeOpenAIUsage(c.usage) : state.usage;
  const chunk: ChatCompletionChunk = {
    id: c.id,
    object: "chat.completion.chunk",
    created: c.created,
    model: c.model,
    choices: c.choices.map((ch) => {
      const d = ch.delta ?? {};
      return {
        index: ch.index,
        delta: {
          ...(d.role === "assistant" ? { role: "assistant" as const } : {}),
          ...(d.content != null ? { content: d.content } : {}),
          ...(d.refusal != null ? { refusal: d.refusal } : {}),
          ...(d.tool_calls?.length
            ? {
                tool_calls: d.tool_calls.map((t) => ({
                  index: t.index,
                  ...(t.id ? { id: t.id, type: "function" as const } : {}),
                  function: {
                    ...(t.function?.name ? { name: t.function.name } : {}),
                    arguments: t.function?.arguments ?? "",
                  },
                })),
              }
            : {}),
        },
        finish_reason: openaiFinishReason(ch.finish_reason),
        logprobs: null,
      };
    }),
    ...(c.usage ? { usage } : {}),
  };
  return { out: [chunk], state: { ...state, usage } };
}
