import type { Usage } from "../api/chat-response.ts";
import type { TokenUsage } from "../budgets/pricing.ts";
import type { LogFields } from "../log.ts";
import { maskModelName } from "../pii/mask-names.ts";
import type { RequestOutcome } from "./types.ts";

/** A count as billed (wholeTokens), or undefined where the provider gave none. */
const billedCount = (n: number | undefined): number | undefined =>
  n === undefined ? undefined : wholeTokens(n);

/**
 * Copies provider-reported usage into the outcome as it is billed (whole, at least 0: what the log line,
 * /metrics and EMF then count agrees with the spend report); absent usage stays undefined, never zero.
 */
export function recordUsage(outcome: RequestOutcome, usage: Usage | undefined): void {
  if (!usage) return;
  outcome.promptTokens = billedCount(usage.prompt_tokens);
  outcome.completionTokens = billedCount(usage.completion_tokens);
  outcome.cachedTokens = billedCount(usage.prompt_tokens_details?.cached_tokens ?? undefined);
  outcome.cacheWriteTokens = billedCount(usage.prompt_tokens_details?.cache_write_tokens ?? undefined);
  outcome.cacheWrite1hTokens = billedCount(usage.prompt_tokens_details?.cache_write_1h_tokens ?? undefined);
  outcome.reasoningTokens = billedCount(usage.completion_tokens_details?.reasoning_tokens ?? undefined);
  outcome.audioTokens = billedCount(usage.prompt_tokens_details?.audio_tokens ?? undefined);
}

export function newOutcome(requestId: string, endpoint: string): RequestOutcome {
  return {
    requestId,
    keyId: undefined,
    org: undefined,
    endpoint,
    model: undefined,
    provider: undefined,
    providerModel: undefined,
    status: 0,
    stream: false,
    latencyMs: 0,
    ttftMs: undefined,
    promptTokens: undefined,
    completionTokens: undefined,
    cachedTokens: undefined,
    cacheWriteTokens: undefined,
    cacheWrite1hTokens: undefined,
    reasoningTokens: undefined,
    audioTokens: undefined,
    usagePartial: false,
    errorCode: undefined,
    attempts: [],
    costUsd: undefined,
    priceVersion: undefined,
  };
}

/**
 * The outcome as flat log fields; attempts become `provider/model:outcome[:code][:answered]` joined by
 * commas (`answered`: it failed after its provider answered 2xx, so it was billed), and a refusing
 * budget `scope:id:periodKey`.
 */
export function outcomeFields(o: RequestOutcome): LogFields {
  const { attempts, budgetRefused: b, ...rest } = o;
  return {
    ...rest,
    // As the usage event and the metrics name it (a phone number after `/` escapes the log's own pass).
    ...(o.model !== undefined ? { model: maskModelName(o.model) } : {}),
    ...(o.providerModel !== undefined ? { providerModel: maskModelName(o.providerModel) } : {}),
    ...(b ? { budgetRefused: `${b.scope}:${b.id}:${b.periodKey}` } : {}),
    attempts: attempts
      .map(
        (a) =>
          `${a.provider}/${maskModelName(a.model)}:${a.outcome}${a.code ? `:${a.code}` : ""}${a.answered ? ":answered" : ""}`,
      )
      .join(","),
  };
}

/**
 * A provider's token count as pricing and the usage event's schema take it (a whole number, at least 0).
 * A provider that answered with another (an OpenAI-compatible server reporting 12.5 or -1) would
 * otherwise have the aggregator refuse the event, and the request's spend would never be counted.
 */
export const wholeTokens = (n: number | undefined): number =>
  n !== undefined && Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;

/** A provider's usage as the token counts pricing takes. */
export function tokensOfUsage(u: Usage): TokenUsage {
  return {
    input: wholeTokens(u.prompt_tokens),
    output: wholeTokens(u.completion_tokens),
    cached: wholeTokens(u.prompt_tokens_details?.cached_tokens),
    reasoning: wholeTokens(u.completion_tokens_details?.reasoning_tokens),
    cacheWrite: wholeTokens(u.prompt_tokens_details?.cache_write_tokens),
    cacheWrite1h: wholeTokens(u.prompt_tokens_details?.cache_write_1h_tokens),
    audio: wholeTokens(u.prompt_tokens_details?.audio_tokens),
  };
}

/** The endpoint as usage events name it. */
export const usageEndpoint = (endpoint: string): "chat" | "embeddings" =>
  endpoint === "/v1/embeddings" ? "embeddings" : "chat";
