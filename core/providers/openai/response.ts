import type { ChatCompletion, Embeddings, FinishReason, Usage } from "../../api/chat-response.ts";
import { usage } from "../../api/chat-response.ts";
import type { ResponseMeta } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { type OpenAIUsage, openaiCompletion, openaiEmbeddings } from "./wire.ts";

const PROVIDER = "openai";

export function normalizeOpenAIUsage(u: OpenAIUsage): Usage {
  return usage(
    u.prompt_tokens,
    u.completion_tokens,
    u.prompt_tokens_details?.cached_tokens ?? undefined,
    u.completion_tokens_details?.reasoning_tokens ?? undefined,
  );
}

/** Unknown finish reasons (e.g. the legacy `function_call`) fold onto the closest documented one. */
export function openaiFinishReason(reason: string | null | undefined): FinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "stop";
  }
}

export function fromOpenAIResponse(body: unknown, _meta: ResponseMeta): ChatCompletion {
  const r = parseUpstream(openaiCompletion, body, PROVIDER);
  return {
    id: r.id,
    object: "chat.completion",
    created: r.created,
    model: r.model,
    choices: r.choices.map((c) => ({
      index: c.index,
      message: {
        role: "assistant",
        content: c.message.content ?? null,
        refusal: c.message.refusal ?? null,
        ...(c.message.tool_calls?.length
          ? {
              tool_calls: c.message.tool_calls.map((t) => ({
                id: t.id,
                type: "function" as const,
                function: { name: t.function.name, arguments: t.function.arguments },
              })),
            }
          : {}),
      },
      finish_reason: openaiFinishReason(c.finish_reason) ?? "stop",
      logprobs: null,
    })),
    usage: r.usage ? normalizeOpenAIUsage(r.usage) : usage(0, 0),
    system_fingerprint: r.system_fingerprint ?? null,
  };
}

export function fromOpenAIEmbeddings(body: unknown, _meta: ResponseMeta): Embeddings {
  const r = parseUpstream(openaiEmbeddings, body, PROVIDER);
  return {
    object: "list",
    data: r.data.map((d) => ({ object: "embedding", index: d.index, embedding: d.embedding })),
    model: r.model,
    usage: {
      prompt_tokens: r.usage.prompt_tokens,
      total_tokens: r.usage.total_tokens ?? r.usage.prompt_tokens,
    },
  };
}
