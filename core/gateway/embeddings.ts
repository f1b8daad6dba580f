import { embeddingsRequest } from "../api/chat-request.ts";
import { badRequest } from "../api/errors.ts";
import { embeddingsAdapters } from "../providers/adapters.ts";
import { parseUpstreamJson } from "../providers/upstream-json.ts";
import { json } from "./http.ts";
import { endpointFor, mapContext, markTarget, resolveTargets } from "./target.ts";
import type { GatewayResponse, RequestContext } from "./types.ts";
import { callUpstream, MAX_RESPONSE_BODY, readText } from "./upstream-call.ts";
import { validate } from "./validate.ts";

/** POST /v1/embeddings: OpenAI and Gemini (and the mock); Anthropic has no embeddings API. */
export async function embeddings(
  ctx: RequestContext,
  body: unknown,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const { deps } = ctx;
  const req = validate(embeddingsRequest, body);
  const target = resolveTargets(ctx, req.model)[0]!;
  const adapter = embeddingsAdapters[target.provider.kind];
  if (!adapter) {
    throw badRequest(
      `Provider '${target.provider.id}' does not offer embeddings.`,
      "model",
      "embeddings_not_supported",
    );
  }
  markTarget(ctx, target, headers);
  const call = await callUpstream(
    deps.transports[target.provider.kind],
    endpointFor(deps, target),
    adapter.toRequest(req, mapContext(deps, target)),
  );
  try {
    const text = await readText(call.response.body, MAX_RESPONSE_BODY, target.provider.id);
    const result = adapter.fromResponse(
      parseUpstreamJson(text, target.provider.id),
      {
        id: ctx.requestId,
        created: Math.floor(deps.now() / 1000),
        model: target.model,
      },
      req.encoding_format ?? "float",
    );
    ctx.outcome.promptTokens = result.usage.prompt_tokens;
    return json(200, result, headers);
  } finally {
    call.done();
  }
}
