import type { ChatRequest } from "../../api/chat-request.ts";
import type { EmbeddingsRequest } from "../../api/embeddings-request.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";

const headers = (apiKey: string): Record<string, string> => ({
  authorization: `Bearer ${apiKey}`,
  "content-type": "application/json",
});

type Message = ChatRequest["messages"][number];

/**
 * What an assistant message may carry that is not OpenAI's to read: response fields a client echoed back
 * (chat-request.ts; its tool calls' `parsed_arguments` too), Gemini's `extra_content` on its tool calls, and a `tool_calls` list that is empty
 * (which OpenAI refuses, and older SDK parse helpers put on every message) or null. Such messages are rebuilt without
 * them; every other message passes as it is.
 */
const carriesEcho = (m: Message): boolean =>
  m.role === "assistant" &&
  (m.annotations !== undefined ||
    m.audio !== undefined ||
    m.function_call !== undefined ||
    m.parsed !== undefined ||
    m.tool_calls === null ||
    m.tool_calls?.length === 0 ||
    (m.tool_calls?.some((t) => t.extra_content !== undefined || t.function.parsed_arguments !== undefined) ??
      false));

function withoutEchoes(messages: ChatRequest["messages"]): ChatRequest["messages"] {
  if (!messages.some(carriesEcho)) return messages;
  return messages.map((m): Message => {
    if (m.role !== "assistant" || !carriesEcho(m)) return m;
    const { annotations: _a, audio: _b, function_call: _c, parsed: _d, tool_calls, ...rest } = m;
    return tool_calls?.length
      ? {
          ...rest,
          tool_calls: tool_calls.map(
            ({ extra_content: _, function: { parsed_arguments: _p, ...fn }, ...t }) => ({
              ...t,
              function: fn,
            }),
          ),
        }
      : rest;
  });
}

/** OpenAI's reasoning models (o-series, GPT-5 and later), which refuse `max_tokens` with 400. */
const REASONING_MODEL = /^(o\d|gpt-([5-9]|\d\d))/;

/**
 * OpenAI is the gateway's own dialect: the request passes through with the provider model substituted.
 * Streams always ask for usage (`stream_options.include_usage`) so cost is taken from the provider even
 * when the caller did not ask; the router strips the usage chunk again for such callers. A reasoning
 * model gets the caller's `max_tokens` as `max_completion_tokens`, the one limit it takes (and the same
 * bound: its reasoning counts toward either), so a request written for an older model still works.
 */
export function toOpenAIRequest(req: ChatRequest, ctx: MapContext): UpstreamRequest {
  const body: ChatRequest = { ...req, model: ctx.model, messages: withoutEchoes(req.messages) };
  if (req.stream) body.stream_options = { ...req.stream_options, include_usage: true };
  if (body.max_tokens != null && REASONING_MODEL.test(ctx.model)) {
    body.max_completion_tokens ??= body.max_tokens;
    delete body.max_tokens;
  }
  return { path: "/chat/completions", headers: headers(ctx.apiKey), body: JSON.stringify(body) };
}

export function toOpenAIEmbeddingsRequest(req: EmbeddingsRequest, ctx: MapContext): UpstreamRequest {
  return {
    path: "/embeddings",
    headers: headers(ctx.apiKey),
    body: JSON.stringify({ ...req, model: ctx.model }),
  };
}
