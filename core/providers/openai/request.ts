import type { ChatRequest, EmbeddingsRequest } from "../../api/chat-request.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";

const headers = (apiKey: string): Record<string, string> => ({
  authorization: `Bearer ${apiKey}`,
  "content-type": "application/json",
});

/**
 * `extra_content` on a replayed tool call is Gemini's state (chat-request.ts); OpenAI refuses unknown
 * fields in a message, so it is taken off. Messages without it pass as they are.
 */
function withoutExtraContent(messages: ChatRequest["messages"]): ChatRequest["messages"] {
  const carries = (m: ChatRequest["messages"][number]) =>
    m.role === "assistant" && m.tool_calls?.some((t) => t.extra_content !== undefined);
  if (!messages.some(carries)) return messages;
  return messages.map((m) =>
    carries(m) && m.role === "assistant"
      ? { ...m, tool_calls: m.tool_calls?.map(({ extra_content: _, ...t }) => t) }
      : m,
  );
}

/**
 * OpenAI is the gateway's own dialect: the request passes through with the provider model substituted.
 * Streams always ask for usage (`stream_options.include_usage`) so cost is taken from the provider even
 * when the caller did not ask; the router strips the usage chunk again for such callers.
 */
export function toOpenAIRequest(req: ChatRequest, ctx: MapContext): UpstreamRequest {
  const body: ChatRequest = { ...req, model: ctx.model, messages: withoutExtraContent(req.messages) };
  if (req.stream) body.stream_options = { include_usage: true };
  return { path: "/chat/completions", headers: headers(ctx.apiKey), body: JSON.stringify(body) };
}

export function toOpenAIEmbeddingsRequest(req: EmbeddingsRequest, ctx: MapContext): UpstreamRequest {
  return {
    path: "/embeddings",
    headers: headers(ctx.apiKey),
    body: JSON.stringify({ ...req, model: ctx.model }),
  };
}
