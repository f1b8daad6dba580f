import type { ChoiceLogprobs, TokenLogprob } from "../../api/chat-response.ts";
import type { GeminiLogprobsResult } from "./wire.ts";

type Candidate = { token?: string | null | undefined; logProbability?: number | null | undefined };

const entry = (c: Candidate) => {
  const token = c.token ?? "";
  return { token, logprob: c.logProbability ?? 0, bytes: [...Buffer.from(token, "utf8")] };
};

/**
 * Gemini's `logprobsResult` in OpenAI's `logprobs` shape: one entry per decoding step, the chosen token
 * with its log probability, and the step's top candidates as `top_logprobs`. Gemini gives no bytes, so
 * they are the token's UTF-8, as OpenAI's are.
 */
export function geminiLogprobs(r: GeminiLogprobsResult | null | undefined): ChoiceLogprobs | null {
  if (!r?.chosenCandidates) return null;
  const content: TokenLogprob[] = r.chosenCandidates.map((chosen, step) => ({
    ...entry(chosen),
    top_logprobs: (r.topCandidates?.[step]?.candidates ?? []).map(entry),
  }));
  return { content, refusal: null };
}
