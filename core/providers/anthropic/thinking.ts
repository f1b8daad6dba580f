import type { ChatRequest } from "../../api/chat-request.ts";
import { unsupportedParameter } from "../../api/errors.ts";
import { maxOutputTokens, takesXhighEffort, thinksAdaptively } from "./model-traits.ts";

/**
 * Anthropic requires `max_tokens`; OpenAI callers may omit it. 4096 fits every current Claude model's
 * output limit, so the default never makes a request fail on its own.
 */
export const DEFAULT_MAX_TOKENS = 4096;

type Effort = NonNullable<ChatRequest["reasoning_effort"]>;

/**
 * `reasoning_effort` as manual extended thinking (`thinking.budget_tokens`, at least 1 024 by Anthropic's
 * rule). `max` stays under the 64 000-token output cap of Claude 4.5 models once the answer's
 * DEFAULT_MAX_TOKENS is added; a model with a lower cap gets less (budgetFor). The same figures size
 * `max_tokens` for adaptive thinking, which has no budget but spends its thinking out of `max_tokens`
 * too. `none` is Anthropic's default: no thinking.
 */
const THINKING_BUDGET: Record<Exclude<Effort, "none">, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
  max: 57344,
};
const MIN_THINKING_BUDGET = 1024;

/** Adaptive thinking's `output_config.effort` levels, least thinking first. */
const ADAPTIVE_LEVELS = ["low", "medium", "high", "xhigh", "max"] as const;
type AdaptiveLevel = (typeof ADAPTIVE_LEVELS)[number];

/**
 * Adaptive thinking's `output_config.effort` for each OpenAI effort. Anthropic has no `minimal`;
 * `low` is its least.
 */
const ADAPTIVE_EFFORT: Record<Exclude<Effort, "none">, AdaptiveLevel> = {
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "xhigh",
  max: "max",
};

/**
 * The level an effort asks of `model`: its own, or the next one up the model has (xhigh is `max` on
 * Claude 4.6, which has no xhigh and answers it with 400). An effort says how hard to think, and a
 * model that lacks the level thinks at least as hard rather than refusing, as for Gemini's levels.
 */
function adaptiveEffort(effort: Exclude<Effort, "none">, model: string): AdaptiveLevel {
  const wanted = ADAPTIVE_EFFORT[effort];
  const taken = (level: AdaptiveLevel) => level !== "xhigh" || takesXhighEffort(model);
  return ADAPTIVE_LEVELS.slice(ADAPTIVE_LEVELS.indexOf(wanted)).find(taken) ?? "max";
}

export type AnthropicThinking =
  | { type: "enabled"; budget_tokens: number }
  | { type: "adaptive"; effort: AdaptiveLevel };

const limitOf = (req: ChatRequest) => req.max_completion_tokens ?? req.max_tokens;

/**
 * The thinking an effort gets without the caller's limit: its budget, within the model's output cap
 * less DEFAULT_MAX_TOKENS for the answer (Opus 4 and 4.1 write at most 32 000 tokens, so xhigh and max
 * think in 27 904 there). Never under Anthropic's floor of 1 024. A model whose cap is unknown gets the
 * budget as it is.
 */
function budgetFor(effort: Exclude<Effort, "none">, model: string | undefined): number {
  const wanted = THINKING_BUDGET[effort];
  const cap = model === undefined ? undefined : maxOutputTokens(model);
  if (cap === undefined) return wanted;
  return Math.max(MIN_THINKING_BUDGET, Math.min(wanted, cap - DEFAULT_MAX_TOKENS));
}

/**
 * The thinking a request asks of `model`, or undefined. Thinking counts toward `max_tokens`. With a
 * manual budget, `max_tokens` must exceed it: without the caller's limit, `max_tokens` is the budget
 * plus DEFAULT_MAX_TOKENS for the answer, within the model's output cap; with one, the budget shrinks
 * to fit under it, as an OpenAI reasoning model spends its `max_completion_tokens` on reasoning and
 * answer together. What Anthropic refuses while thinking (another temperature, a low top_p; with a
 * manual budget also a forced tool, or a limit at or below the budget's floor) is refused here, naming
 * the parameter.
 */
export function thinkingFor(
  req: ChatRequest,
  model: string,
  provider: string,
): AnthropicThinking | undefined {
  const effort = req.reasoning_effort;
  if (effort == null || effort === "none") return undefined;
  if (req.temperature != null && req.temperature !== 1)
    throw unsupportedParameter(provider, "temperature", "Anthropic thinks only at temperature 1");
  if (req.top_p != null && req.top_p < 0.95)
    throw unsupportedParameter(provider, "top_p", "Anthropic thinks only with top_p from 0.95 to 1");
  if (thinksAdaptively(model)) return { type: "adaptive", effort: adaptiveEffort(effort, model) };
  if (req.tool_choice === "required" || typeof req.tool_choice === "object")
    throw unsupportedParameter(provider, "tool_choice", "Anthropic cannot force a tool call while it thinks");
  const limit = limitOf(req);
  if (limit == null) return { type: "enabled", budget_tokens: budgetFor(effort, model) };
  if (limit <= MIN_THINKING_BUDGET) {
    const param = req.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
    throw unsupportedParameter(provider, param, "reasoning on Anthropic needs a limit above 1 024 tokens");
  }
  return { type: "enabled", budget_tokens: Math.min(THINKING_BUDGET[effort], limit - 1) };
}

/**
 * The `max_tokens` an Anthropic request is sent with. A caller's limit is sent as it is (one above the
 * model's cap gets Anthropic's own 400, as OpenAI refuses one above its model's). Without one, the
 * thinking budget plus DEFAULT_MAX_TOKENS, within the model's cap. The budget estimate calls this
 * without a model: its bound is then the uncapped figure, never below what is sent.
 */
export function anthropicMaxTokens(req: ChatRequest, model?: string): number {
  const limit = limitOf(req);
  if (limit != null) return limit;
  const effort = req.reasoning_effort;
  if (effort == null || effort === "none") return DEFAULT_MAX_TOKENS;
  const cap = model === undefined ? undefined : maxOutputTokens(model);
  const wanted = budgetFor(effort, model) + DEFAULT_MAX_TOKENS;
  return cap === undefined ? wanted : Math.min(wanted, cap);
}
