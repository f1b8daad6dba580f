import type { Embeddings } from "../api/chat-response.ts";
import type { EmbeddingEncoding } from "../api/embedding-encoding.ts";
import { type EmbeddingsRequest, embeddingsRequest } from "../api/embeddings-request.ts";
import { badRequest } from "../api/errors.ts";
import { worstCaseEmbeddingCost, worstCaseEmbeddingTokens } from "../budgets/estimate.ts";
import { embeddingsAdapters } from "../providers/adapters.ts";
import { GEMINI_EMBEDDINGS_PER_CALL } from "../providers/gemini/index.ts";
import type { EmbeddingsAdapter, ProviderKind, ResponseMeta, UpstreamRequest } from "../providers/types.ts";
import { parseUpstreamJson } from "../providers/upstream-json.ts";
import { planAttempts } from "../routing/plan.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";
import { retryPolicy } from "../routing/retry.ts";
import { withFallback } from "./attempts.ts";
import { firstTaker, mappedFor } from "./first-taker.ts";
import { json } from "./http.ts";
import { wholeTokens } from "./outcome.ts";
import { redactEmbeddingsInput } from "./redact-prompt.ts";
import { guardSpend, spendablePlan } from "./spend-guard.ts";
import { mapContext, noteRequestedModel, resolveTargets } from "./target.ts";
import type { GatewayResponse, RequestContext } from "./types.ts";
import { callTarget, MAX_RESPONSE_BODY, readText } from "./upstream-call.ts";
import { validate } from "./validate.ts";

/**
 * Inputs one upstream call may carry, for a provider that takes fewer than the 2 048 the gateway
 * validates (OpenAI's own limit). A larger request goes to such a provider as consecutive calls.
 */
const INPUTS_PER_CALL: Partial<Record<ProviderKind, number>> = { gemini: GEMINI_EMBEDDINGS_PER_CALL };

/** A list of inputs (one string or one token array is a single input, never split). */
const isList = (input: EmbeddingsRequest["input"]): input is string[] | number[][] =>
  Array.isArray(input) && typeof input[0] !== "number";

/** The request as requests of at most `size` inputs each, in input order. */
function inBatches(req: EmbeddingsRequest, size: number | undefined): EmbeddingsRequest[] {
  const input = req.input;
  if (size === undefined || !isList(input) || input.length <= size) return [req];
  const batches: EmbeddingsRequest[] = [];
  for (let start = 0; start < input.length; start += size)
    batches.push({ ...req, input: input.slice(start, start + size) });
  return batches;
}

/** The answers to consecutive calls as one answer: every vector indexed in input order, usage summed. */
function joined(answers: Embeddings[], model: string): Embeddings {
  if (answers.length === 1 && answers[0]) return answers[0];
  const data = answers.flatMap((a) => a.data).map((d, index) => ({ ...d, index }));
  const sum = (count: (a: Embeddings) => number) => answers.reduce((total, a) => total + count(a), 0);
  return {
    object: "list",
    data,
    model: answers[0]?.model ?? model,
    usage: {
      prompt_tokens: sum((a) => a.usage.prompt_tokens),
      total_tokens: sum((a) => a.usage.total_tokens),
    },
  };
}

/** The part of the request's token bound that its first `answered` batches hold. */
function answeredShare(batches: EmbeddingsRequest[], answered: number, total: number): number {
  if (total <= 0) return 1;
  const done = batches.slice(0, answered).reduce((n, b) => n + worstCaseEmbeddingTokens(b), 0);
  return done / total;
}

interface Answer {
  result: Embeddings;
  /** Whether the provider counted this call's tokens (EmbeddingsAdapter.usageReported). */
  counted: boolean;
}

/** POST /v1/embeddings: OpenAI and Gemini (and the mock); Anthropic has no embeddings API. */
export async function embeddings(
  ctx: RequestContext,
  body: unknown,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const { deps } = ctx;
  noteRequestedModel(ctx, body);
  refuseOutOfBoundsInputs(body);
  let req = validate(embeddingsRequest, body);
  const org = ctx.snapshot!.orgs.get(ctx.key!.org);
  if (org?.redactPrompts) {
    const redacted = redactEmbeddingsInput(req);
    req = redacted.request;
    headers["x-gateway-redacted"] = String(redacted.masked);
  }
  // Sensitive orgs: the texts as sent (masked when redactPrompts) go to the org's chain; the vectors not.
  if (org?.sensitive) {
    const { model, input, dimensions, encoding_format, user } = req;
    ctx.capture = {
      request: { model, input, dimensions, encoding_format, user },
      content: "",
      toolCalls: [],
    };
  }
  const resolution = resolveTargets(ctx, req.model);
  const tokens = worstCaseEmbeddingTokens(req);
  const unoffered = (target: ResolvedTarget) =>
    badRequest(
      `Provider '${target.provider.id}' does not offer embeddings.`,
      "model",
      "embeddings_not_supported",
    );
  // Said before any price is asked for: under a budget, an unpriced target of a provider without
  // embeddings would otherwise be refused as unpriced, which no price would mend.
  const first = resolution.targets[0];
  if (first && !resolution.targets.some((t) => embeddingsAdapters[t.provider.kind])) throw unoffered(first);
  // Every call is mapped before the first is sent: a refusal (400 unsupported_parameter) comes before
  // anything was spent at this target, and the alias falls back.
  const mapAll = (target: ResolvedTarget) => {
    const adapter = embeddingsAdapters[target.provider.kind];
    if (!adapter) throw unoffered(target);
    const mapped = mapContext(deps, target);
    const batches = inBatches(req, INPUTS_PER_CALL[target.provider.kind]);
    return { adapter, batches, requests: batches.map((part) => adapter.toRequest(part, mapped)) };
  };
  const planned = spendablePlan(ctx, planAttempts(resolution.targets, resolution.strategy, deps.random));
  const { plan: takers, taken } = firstTaker(planned, mapAll, (t) => deps.breakers.wouldAdmit(t));
  const plan = await guardSpend(
    ctx,
    takers,
    {
      worstCaseUsd: (_t, price) => worstCaseEmbeddingCost(req, price),
      tokens,
      smallerBy: "fewer or shorter inputs",
    },
    headers,
  );
  return withFallback(ctx, plan, retryPolicy(resolution.retry), headers, async (target, callerGone) => {
    const { adapter, batches, requests } = mappedFor(taken, target, () => mapAll(target));
    const encoding = req.encoding_format ?? "float";
    const meta = {
      id: ctx.requestId,
      created: Math.floor(deps.now() / 1000),
      model: target.model,
      provider: target.provider.id,
    };
    // One after another: the calls share the provider's rate limit, and a failure stops the rest. The
    // attempt (retry, fallback, accounting) is the whole request, as the caller sent it.
    const answers: Answer[] = [];
    for (const [i, request] of requests.entries()) {
      // Should the attempt fail, its provider billed the calls it answered, and only those.
      const share = answeredShare(batches, i + 1, tokens);
      answers.push(await embedOnce(ctx, target, adapter, request, { meta, encoding, share }, callerGone));
    }
    const result = joined(
      answers.map((a) => a.result),
      target.model,
    );
    // As billed (whole, never negative), as recordUsage keeps a chat's counts.
    if (answers.every((a) => a.counted)) ctx.outcome.promptTokens = wholeTokens(result.usage.prompt_tokens);
    else {
      // No count from the provider: billed at the upper bound (a budget keeps its reservation, which
      // is that bound), never at $0. The caller's `usage` still says what the provider said.
      ctx.outcome.promptTokens = tokens;
      ctx.outcome.usagePartial = true;
    }
    return json(200, result, headers);
  });
}

/**
 * One upstream call and its answer. Once the provider has answered it, `share` of the attempt's worst
 * case is billed (the calls answered so far), whatever happens next.
 */
async function embedOnce(
  ctx: RequestContext,
  target: ResolvedTarget,
  adapter: EmbeddingsAdapter,
  request: UpstreamRequest,
  { meta, encoding, share }: { meta: ResponseMeta; encoding: EmbeddingEncoding; share: number },
  callerGone: AbortSignal | undefined,
): Promise<Answer> {
  const call = await callTarget(ctx, target, request, callerGone, "embeddings");
  ctx.attemptShare = share;
  try {
    const text = await readText(call.response.body, MAX_RESPONSE_BODY, target.provider.id);
    const parsed = parseUpstreamJson(text, target.provider.id);
    return {
      result: adapter.fromResponse(parsed, meta, encoding),
      counted: adapter.usageReported?.(parsed) ?? true,
    };
  } finally {
    call.done();
  }
}

/** OpenAI's limits on one embeddings request: inputs (texts or token arrays), and token ids per input. */
const MAX_INPUTS = 2048;
const MAX_TOKEN_IDS = 8192;

/**
 * Inputs out of bounds, named as such: the schema's union would report its first item as the wrong type
 * instead, or say no more than "Invalid input" (a list of token ids is the one list that may be longer
 * than MAX_INPUTS).
 */
function refuseOutOfBoundsInputs(body: unknown): void {
  const input = (body as { input?: unknown } | null)?.input;
  if (!Array.isArray(input)) return;
  const invalid = (param: string, message: string) =>
    badRequest(`Invalid '${param}': ${message}.`, param, "invalid_request_body");
  if (input.length === 0) throw invalid("input", "an empty list; send at least one input");
  if (input.every((x) => typeof x === "number")) {
    if (input.length > MAX_TOKEN_IDS)
      throw invalid("input", `at most ${MAX_TOKEN_IDS} token ids per input, got ${input.length}`);
    return;
  }
  if (input.length > MAX_INPUTS)
    throw invalid("input", `at most ${MAX_INPUTS} inputs per request, got ${input.length}`);
  const long = input.findIndex((x) => Array.isArray(x) && x.length > MAX_TOKEN_IDS);
  if (long >= 0)
    throw invalid(
      `input[${long}]`,
      `at most ${MAX_TOKEN_IDS} token ids per input, got ${(input[long] as unknown[]).length}`,
    );
}
