import { embeddingsRequest } from "../api/chat-request.ts";
import { badRequest } from "../api/errors.ts";
import { worstCaseEmbeddingCost, worstCaseEmbeddingTokens } from "../budgets/estimate.ts";
import { embeddingsAdapters } from "../providers/adapters.ts";
import { parseUpstreamJson } from "../providers/upstream-json.ts";
import { planAttempts } from "../routing/plan.ts";
import { retryPolicy } from "../routing/retry.ts";
import { withFallback } from "./attempts.ts";
import { json } from "./http.ts";
import { guardSpend } from "./spend-guard.ts";
import { endpointFor, mapContext, resolveTargets } from "./target.ts";
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
  const resolution = resolveTargets(ctx, req.model);
  const tokens = worstCaseEmbeddingTokens(req);
  const plan = await guardSpend(
    ctx,
    planAttempts(resolution.targets, resolution.strategy, deps.random),
    {
      worstCaseUsd: (_t, price) => worstCaseEmbeddingCost(req, price),
      tokens,
    },
    headers,
  );
  return withFallback(ctx, plan, retryPolicy(resolution.retry), headers, async (target, callerGone) => {
    const adapter = embeddingsAdapters[target.provider.kind];
    if (!adapter) {
      throw badRequest(
        `Provider '${target.provider.id}' does not offer embeddings.`,
        "model",
        "embeddings_not_supported",
      );
    }
    const call = await callUpstream(
      deps.transports[target.provider.kind],
      endpointFor(deps, target),
      adapter.toRequest(req, mapContext(deps, target)),
      callerGone,
    );
    ctx.attemptAnswered = true;
    try {
      const text = await readText(call.response.body, MAX_RESPONSE_BODY, target.provider.id);
      const meta = { id: ctx.requestId, created: Math.floor(deps.now() / 1000), model: target.model };
      const parsed = parseUpstreamJson(text, target.provider.id);
      const result = adapter.fromResponse(parsed, meta, req.encoding_format ?? "float");
      if (adapter.usageReported?.(parsed) ?? true) ctx.outcome.promptTokens = result.usage.prompt_tokens;
      else {
        // No count from the provider: billed at the upper bound (a budget keeps its reservation, which
        // is that bound), never at $0. The caller's `usage` still says what the provider said.
        ctx.outcome.promptTokens = tokens;
        ctx.outcome.usagePartial = true;
      }
      return json(200, result, headers);
    } finally {
      call.done();
    }
  });
}
