import type { ChatRequest } from "../api/chat-request.ts";
import { chatRequestInput } from "../api/chat-request-input.ts";
import { badRequest, GatewayError } from "../api/errors.ts";
import { DEFAULT_MAX_OUTPUT_TOKENS, worstCaseChatCost, worstCaseChatTokens } from "../budgets/estimate.ts";
import { priceFor } from "../budgets/pricing.ts";
import type { OrgConfig } from "../config/types.ts";
import { chatAdapters } from "../providers/adapters.ts";
import { credentialsIn, errorWithoutCredentials } from "../providers/credential-scrub.ts";
import type { ResponseMeta, UpstreamRequest } from "../providers/types.ts";
import { parseUpstreamJson } from "../providers/upstream-json.ts";
import { planAttempts } from "../routing/plan.ts";
import { firstByteMsFor, type ResolvedTarget } from "../routing/resolve.ts";
import { retryPolicy } from "../routing/retry.ts";
import { judgeStream, withFallback } from "./attempts.ts";
import { captureChunk, captureText } from "./audit.ts";
import { carriesContent } from "./chunk-content.ts";
import { completeRequest } from "./complete.ts";
import { completionWithoutEchoes } from "./echo-holdback.ts";
import { firstTaker, mappedFor, type Taken } from "./first-taker.ts";
import { json, SSE_HEADERS } from "./http.ts";
import { auditedRequest, refuseUnboundedParts } from "./inline-parts.ts";
import { answersInLegacyForm, fromLegacyFunctions, withLegacyAnswers } from "./legacy-functions.ts";
import { recordUsage, tokensOfUsage } from "./outcome.ts";
import { redactPrompt } from "./redact-prompt.ts";
import { guardSpend, type SpendBounds, spendablePlan, underBudget } from "./spend-guard.ts";
import { translateStream } from "./stream-translator.ts";
import { mapContext, noteRequestedModel, resolveTargets } from "./target.ts";
import type { GatewayResponse, RequestContext } from "./types.ts";
import { callTarget, MAX_RESPONSE_BODY, readText } from "./upstream-call.ts";
import { validate } from "./validate.ts";

/**
 * Whether a request under a budget asks for a tier the gateway cannot price at one of its targets:
 * `scale` (prepaid capacity, billed outside per-token prices) always; `priority` where the price table
 * has no priority prices. Flex is billed below the standard prices, so they over-count it, which keeps a
 * budget safe.
 */
function unpricedTier(req: ChatRequest, plan: readonly ResolvedTarget[]): boolean {
  if (req.service_tier === "scale") return true;
  if (req.service_tier !== "priority") return false;
  return plan.some((t) => {
    const price = priceFor(t.provider.kind, t.model, t.provider.prices);
    return price !== undefined && price.priority === undefined;
  });
}

/** POST /v1/chat/completions: the alias's targets tried in order (see attempts.ts) until one answers. */
export async function chatCompletions(
  ctx: RequestContext,
  body: unknown,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  noteRequestedModel(ctx, body);
  const input = validate(chatRequestInput, body);
  const req = fromLegacyFunctions(input);
  if (answersInLegacyForm(input)) ctx.legacyFunctions = true;
  ctx.outcome.stream = req.stream === true;
  const org = ctx.snapshot!.orgs.get(ctx.key!.org);
  const resolution = resolveOrRecord(ctx, req, org);
  let plan = planAttempts(resolution.targets, resolution.strategy, ctx.deps.random);
  refuseUnboundedParts(req, { budget: underBudget(ctx), redaction: org?.redactPrompts === true });
  // Under a budget, an output limit is sent upstream, and the reservation is bounded by it, so it holds.
  // As `max_completion_tokens`: OpenAI's reasoning models (o-series, GPT-5) refuse `max_tokens`, and
  // every adapter reads both.
  const bounded =
    underBudget(ctx) && req.max_tokens == null && req.max_completion_tokens == null
      ? { ...req, max_completion_tokens: DEFAULT_MAX_OUTPUT_TOKENS }
      : req;
  // Redaction runs after the spend guard, so a refused request costs none, except for a sensitive org,
  // whose record of a refused request must hold the request as it would have been sent. It changes
  // texts, never what a target can take.
  let sent = bounded;
  let redacted = false;
  const redact = () => {
    if (!org?.redactPrompts || redacted) return;
    redacted = true;
    const r = redactPrompt(bounded);
    sent = r.request;
    headers["x-gateway-redacted"] = String(r.masked);
  };
  if (org?.sensitive) {
    redact();
    ctx.capture = { request: auditedRequest(sent), content: "", toolCalls: [] };
  }
  const mapped = sent;
  const { plan: takers, taken } = firstTaker(
    spendablePlan(ctx, plan),
    (t) => adapterFor(ctx, t).toRequest(mapped, mapContext(ctx.deps, t)),
    (t) => ctx.deps.breakers.wouldAdmit(t),
  );
  if (underBudget(ctx) && unpricedTier(req, takers)) {
    throw badRequest(
      `Service tier '${req.service_tier}' has no price in the gateway's table for this model, and this request is under a budget.`,
      "service_tier",
      "service_tier_not_priced",
    );
  }
  plan = await guardSpend(ctx, takers, chatBounds(bounded, takers), headers);
  redact();
  return withFallback(ctx, plan, retryPolicy(resolution.retry), headers, (target, callerGone) => {
    // The mapping made before holds while the request is the one it was made of.
    const call = { req: sent, target, taken: sent === mapped ? taken : undefined, callerGone };
    return sent.stream ? streamFrom(ctx, call, headers) : completeFrom(ctx, call, headers);
  });
}

/**
 * The alias's targets. A sensitive org's request refused for its regions is recorded with the request
 * it refused (masked when the org redacts prompts), as one refused for its budget is: it was read.
 */
function resolveOrRecord(ctx: RequestContext, req: ChatRequest, org: OrgConfig | undefined) {
  try {
    return resolveTargets(ctx, req.model);
  } catch (err) {
    if (org?.sensitive && err instanceof GatewayError && err.code === "residency_violation") {
      const request = org.redactPrompts ? redactPrompt(req).request : req;
      ctx.capture = { request: auditedRequest(request), content: "", toolCalls: [] };
    }
    throw err;
  }
}

/**
 * A 2xx answer read as a completion. One the gateway cannot use fails with the provider's words in it
 * (Gemini's `finishMessage` of a malformed call): masked of the request's credential, as an error
 * status's are.
 */
function fromAnswer<T>(read: () => T, requestHeaders: Readonly<Record<string, string>>): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof GatewayError ? errorWithoutCredentials(err, requestHeaders) : err;
  }
}

/** One attempt's call: the request, its target, firstTaker's mapping, and the caller's signal. */
interface Attempt {
  req: ChatRequest;
  target: ResolvedTarget;
  taken: Taken<UpstreamRequest> | undefined;
  callerGone: AbortSignal | undefined;
}

function chatBounds(req: ChatRequest, plan: ResolvedTarget[]): SpendBounds {
  return {
    worstCaseUsd: (t, price, counted, servedTier) =>
      worstCaseChatCost(req, price, t.provider.kind, t.model, counted, servedTier),
    smallerBy: "less input, a lower max_completion_tokens",
    tokens: Math.max(
      ...plan.map((t) => {
        const b = worstCaseChatTokens(req, t.provider.kind, t.model);
        return b.input + b.output;
      }),
    ),
  };
}

/**
 * Providers send one `data:` line an event (JSON on one line); SSE allows more, and a few servers split
 * long JSON over several. Each line costs memory beyond its characters, so an event's lines are capped
 * well below its characters: 100 000 lines of 64 Mi characters are past any real event.
 */
const MAX_EVENT_LINES = 100_000;

const metaFor = (ctx: RequestContext, target: ResolvedTarget, req: ChatRequest): ResponseMeta => ({
  id: `chatcmpl-${ctx.requestId}`,
  created: Math.floor(ctx.deps.now() / 1000),
  model: target.model,
  provider: target.provider.id,
  ...(req.n != null && req.n > 1 ? { choices: req.n } : {}),
});

function adapterFor(ctx: RequestContext, target: ResolvedTarget) {
  const native = chatAdapters[target.provider.kind];
  return ctx.legacyFunctions ? withLegacyAnswers(native) : native;
}

/** Maps the request to the target's dialect and sends it; a non-2xx answer is already an error here. */
async function openUpstream(ctx: RequestContext, { req, target, taken, callerGone }: Attempt) {
  const adapter = adapterFor(ctx, target);
  const request = mappedFor(taken, target, () => adapter.toRequest(req, mapContext(ctx.deps, target)));
  const call = await callTarget(ctx, target, request, callerGone, req.stream ? "stream" : "chat");
  return { adapter, call, request };
}

async function completeFrom(
  ctx: RequestContext,
  attempt: Attempt,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const { target } = attempt;
  const { adapter, call, request } = await openUpstream(ctx, attempt);
  try {
    const text = await readText(call.response.body, MAX_RESPONSE_BODY, target.provider.id);
    const answer = fromAnswer(
      () =>
        adapter.fromResponse(parseUpstreamJson(text, target.provider.id), metaFor(ctx, target, attempt.req)),
      request.headers,
    );
    const completion = completionWithoutEchoes(answer, credentialsIn(request.headers), text);
    recordUsage(ctx.outcome, completion.usage);
    if (completion.service_tier) ctx.outcome.serviceTier = completion.service_tier;
    if (ctx.capture) {
      const message = completion.choices[0]?.message;
      captureText(ctx.capture, message?.content ?? "");
      for (const t of message?.tool_calls ?? [])
        ctx.capture.toolCalls.push({ name: t.function.name, arguments: t.function.arguments });
      if (message?.function_call) ctx.capture.toolCalls.push({ ...message.function_call });
    }
    return json(200, completion, headers);
  } finally {
    call.done();
  }
}

/**
 * Resolves at the stream's first chunk with content (stream-translator.ts); a failure before it rejects,
 * so the next target can be tried.
 */
async function streamFrom(
  ctx: RequestContext,
  attempt: Attempt,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const { deps } = ctx;
  const { req, target, callerGone } = attempt;
  const callStarted = deps.now();
  const { adapter, call, request } = await openUpstream(ctx, attempt);
  // A short answer can end before this function returns; its outcome is reported from onEnd then.
  ctx.deferOutcome = true;
  ctx.streamVerdict = {};
  ctx.outcome.status = 200;
  // Chunks with content the caller got: a stream cut short cost at least a token for each.
  let delivered = 0;
  const stream = await translateStream(call.response.body, {
    adapter,
    meta: metaFor(ctx, target, req),
    provider: target.provider.id,
    includeUsage: req.stream_options?.include_usage === true,
    // `firstByteMs` bounds the wait for the first event from the call's start, headers included.
    firstEventMs: Math.max(1, firstByteMsFor(target.timeouts, "stream") - (deps.now() - callStarted)),
    idleMs: target.timeouts.idleMs,
    keepAliveMs: deps.keepAliveMs,
    now: deps.now,
    callerGone,
    // An error event before content stands for the error status it names, and a provider that answers
    // with an error status bills nothing: the attempt is not one its provider answered (and billed).
    onDeclaredFailure: () => {
      ctx.attemptAnswered = false;
    },
    onEarlyCount: (usage) => {
      ctx.attemptCountedInput = tokensOfUsage(usage);
    },
    requestHeaders: request.headers,
    // One event may be as large as a whole non-stream answer, over at most MAX_EVENT_LINES data lines.
    maxEventChars: MAX_RESPONSE_BODY,
    maxEventLines: MAX_EVENT_LINES,
    onChunk: (chunk) => {
      if (carriesContent(chunk)) delivered++;
      if (chunk.service_tier) ctx.outcome.serviceTier = chunk.service_tier;
      if (ctx.capture) captureChunk(ctx.capture, chunk);
    },
    onEnd: (end) => {
      call.done();
      // Before the first chunk the attempt loop owns the failure (and may fall back).
      if (end.firstChunkAt === undefined) return;
      const o = ctx.outcome;
      recordUsage(o, end.usage);
      // Anthropic reports input tokens at the start and output at the end, Gemini a running count: a
      // stream cut short has only an early figure, which understates what the provider bills, unless
      // the provider's final count had arrived before the cut. So does a Gemini stream that ended
      // without ever counting its output (the only stream that ends well without a final count).
      o.usagePartial = !end.usageFinal;
      // Anthropic's early count says 1 output token, a placeholder until its message_delta: the caller
      // had `delivered` chunks of output, each at least a token.
      if (o.usagePartial && o.completionTokens !== undefined && delivered > o.completionTokens)
        o.completionTokens = delivered;
      o.ttftMs = end.firstChunkAt - ctx.startedAt;
      o.latencyMs = deps.now() - ctx.startedAt;
      if (end.error) o.errorCode = end.error.code ?? "upstream_error";
      else if (end.clientClosed) o.errorCode = "client_closed";
      // Failing mid-stream is the provider's ill health too, though the caller already has bytes.
      judgeStream(ctx, target, end);
      const verdict = ctx.streamVerdict;
      if (verdict && !verdict.attempt) verdict.afterNoted = () => completeRequest(ctx);
      else completeRequest(ctx);
    },
  }).catch((err: unknown) => {
    ctx.deferOutcome = false;
    throw err;
  });
  return { statusCode: 200, headers: { ...headers, ...SSE_HEADERS }, body: stream };
}
