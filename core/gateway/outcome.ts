import type { Usage } from "../api/chat-response.ts";
import type { RequestOutcome } from "./types.ts";

/** Copies provider-reported usage into the outcome; absent usage stays undefined, never zero. */
export function recordUsage(outcome: RequestOutcome, usage: Usage | undefined): void {
  if (!usage) return;
  outcome.promptTokens = usage.prompt_tokens;
  outcome.completionTokens = usage.completion_tokens;
  outcome.cachedTokens = usage.prompt_tokens_details?.cached_tokens;
  outcome.reasoningTokens = usage.completion_tokens_details?.reasoning_tokens;
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
    reasoningTokens: undefined,
    errorCode: undefined,
  };
}
