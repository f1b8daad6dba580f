import { describe, expect, it } from "vitest";
import { normalizeOpenAIUsage } from "../../../../core/providers/openai/response.ts";

const base = { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 };
const detailed = {
  ...base,
  prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 150, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 120,
    accepted_prediction_tokens: 40,
    rejected_prediction_tokens: 8,
    audio_tokens: 0,
  },
};

describe("normalizeOpenAIUsage", () => {
  it.each([
    ["without details, as it came", base, base],
    ["every detail count OpenAI sent, cache writes and predictions included", detailed, detailed],
    [
      "null counts dropped, and the two the gateway always shows filled in",
      {
        ...base,
        prompt_tokens_details: { audio_tokens: null, cache_write_tokens: 5 },
        completion_tokens_details: { accepted_prediction_tokens: 3 },
      },
      {
        ...base,
        prompt_tokens_details: { cache_write_tokens: 5, cached_tokens: 0 },
        completion_tokens_details: { accepted_prediction_tokens: 3, reasoning_tokens: 0 },
      },
    ],
    [
      "numbers only: a field of another shape is left out, not a failure",
      { ...base, prompt_tokens_details: { cached_tokens: 4, breakdown: { text: 4 } } },
      { ...base, prompt_tokens_details: { cached_tokens: 4 } },
    ],
    [
      "a details object of nulls dropped whole",
      { ...base, prompt_tokens_details: { cached_tokens: null } },
      base,
    ],
  ])("keeps %s", (_, upstream, expected) => {
    expect(normalizeOpenAIUsage(upstream)).toEqual(expected);
  });
});
