import type {
  ChatCompletion,
  ChoiceLogprobs,
  Embeddings,
  FinishReason,
  Usage,
} from "../../api/chat-response.ts";
import { usage } from "../../api/chat-response.ts";
import type { ResponseMeta } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { type OpenAIChoiceLogprobs, type OpenAIUsage, openaiCompletion, openaiEmbeddings } from "./wire.ts";

/** A detail object's counts (its numbers; nulls and anything else left out), or undefined if none. */
function counts(details: Record<string, unknown> | null | undefined): Record<string, number> | undefined {
  if (!details) return undefined;
  const kept = Object.entries(details).filter((e): e is [string, number] => typeof e[1] === "number");
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * OpenAI's usage as OpenAI sent it, details included; `cached_tokens` and `reasoning_tokens` are always
 * there once their detail object is (the gateway's Usage shape). Cache writes feed pricing (outcome.ts).
 */
export function normalizeOpenAIUsage(u: OpenAIUsage): Usage {
  const out = usage(u.prompt_tokens, u.completion_tokens);
  const prompt = counts(u.prompt_tokens_details);
  const completion = counts(u.completion_tokens_details);
  if (prompt) out.prompt_tokens_details = { ...prompt, cached_tokens: prompt.cached_tokens ?? 0 };
  if (completion)
    out.completion_tokens_details = { ...completion, reasoning_tokens: completion.reasoning_tokens ?? 0 };
  return out;
}

/** OpenAI's log probabilities in the gateway's shape (every optional field present, as OpenAI sends them). */
export function toChoiceLogprobs(l: OpenAIChoiceLogprobs | null | undefined): ChoiceLogprobs | null {
  if (!l) return null;
  const tokens = (list: NonNullable<OpenAIChoiceLogprobs["content"]> | null | undefined) =>
    list
      ? list.map((t) => ({
          token: t.token,
          logprob: t.logprob,
          bytes: t.bytes ?? null,
          top_logprobs: (t.top_logprobs ?? []).map((a) => ({
            token: a.token,
            logprob: a.logprob,
            bytes: a.bytes ?? null,
          })),
        }))
      : null;
  return { content: tokens(l.content), refusal: tokens(l.refusal) };
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

export function fromOpenAIResponse(body: unknown, meta: ResponseMeta): ChatCompletion {
  const r = parseUpstream(openaiCompletion, body, meta.provider);
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
        ...(c.message.annotations ? { annotations: c.message.annotations } : {}),
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
      logprobs: toChoiceLogprobs(c.logprobs),
    })),
    ...(r.usage ? { usage: normalizeOpenAIUsage(r.usage) } : {}),
    system_fingerprint: r.system_fingerprint ?? null,
    ...(r.service_tier != null ? { service_tier: r.service_tier } : {}),
    ...(r.moderation != null ? { moderation: r.moderation } : {}),
  };
}

export function fromOpenAIEmbeddings(body: unknown, meta: ResponseMeta): Embeddings {
  const r = parseUpstream(openaiEmbeddings, body, meta.provider);
  return {
    object: "list",
    data: r.data.map((d) => ({ object: "embedding", index: d.index, embedding: d.embedding })),
    model: r.model,
    // Without a count, what the provider said (nothing: zero), as for Gemini's; accounting bills the bound.
    usage: {
      prompt_tokens: r.usage?.prompt_tokens ?? 0,
      total_tokens: r.usage?.total_tokens ?? r.usage?.prompt_tokens ?? 0,
    },
  };
}

/** Whether an embeddings answer counted its tokens (an OpenAI-compatible server may leave `usage` out). */
export function openaiEmbeddingsUsageReported(body: unknown): boolean {
  const usage = (body as { usage?: { prompt_tokens?: unknown } } | null)?.usage;
  return typeof usage?.prompt_tokens === "number";
}
