import type { ChatRequest, EmbeddingsRequest } from "../../api/chat-request.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";

const headers = (apiKey: string): Record<string, string> => ({
  authorization: `Bearer ${apiKey}`,
  "content-type": "application/json",
});

/**
 * OpenAI is the gateway's own dialect: the request passes through with the provider model substituted.
 * Streams always ask for usage (`stream_options.include_usage`) so cost is taken from the provider even
 * when the caller did not ask; the router strips the usage chunk again for such callers.
 */
export function toOpenAIRequest(req: ChatRequest, ctx: MapContext): UpstreamRequest {
  const body: ChatRequest = { ...req, model: ctx.model };
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
