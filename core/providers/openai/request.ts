import type { ChatRequest, EmbeddingsRequest } from "../../api/chat-request.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";

const headers = (apiKey: string): Record<string, string> => ({
  authorization: `Bearer ${apiKey}`,
  "content-type": "application/json",
});

type Message = ChatRequest["messages"][number];

/**
 * What an assistant message may carry that is not OpenAI's to read: response fields a client echoed back
 * (chat-request.ts) and Gemini's `extra_content` on its tool calls. Such messages are rebuilt without
 * them; every other message passes as it is.
 */
const carriesEcho = (m: Message): boolean =>
  m.role === "assistant" &&
  (m.annotations !== undefined ||
    m.audio !== undefined ||
    m.function_call !== undefined ||
    m.parsed !== undefined ||
    (m.tool_calls?.some((t) => t.extra_content !== undefined) ?? false));

function withoutEchoes(messages: ChatRequest["messages"]): ChatRequest["messages"] {
  if (!messages.some(carriesEcho)) return messages;
  return messages.map((m): Message => {
    if (m.role !== "assistant" || !carriesEcho(m)) return m;
    const { annotations: _a, audio: _b, function_call: _c, parsed: _d, tool_calls, ...rest } = m;
    return tool_calls ? { ...rest, tool_calls: tool_calls.map(({ extra_content: _, ...t }) => t) } : rest;
  });
}

/**
 * OpenAI is the gateway's own dialect: the request passes through with the provider model substituted.
 * Streams always ask for usage (`stream_options.include_usage`) so cost is taken from the provider even
 * when the caller did not ask; the router strips the usage chunk again for such callers.
 */
export function toOpenAIRequest(req: ChatRequest, ctx: MapContext): UpstreamRequest {
  const body: ChatRequest = { ...req, model: ctx.model, messages: withoutEchoes(req.messages) };
  if (req.stream) body.stream_options = { ...req.stream_options, include_usage: true };
  return { path: "/chat/completions", headers: headers(ctx.apiKey), body: JSON.stringify(body) };
}

export function toOpenAIEmbeddingsRequest(req: EmbeddingsRequest, ctx: MapContext): UpstreamRequest {
  return {
    path: "/embeddings",
    headers: headers(ctx.apiKey),
    body: JSON.stringify({ ...req, model: ctx.model }),
  };
}
