import { describe, expect, it } from "vitest";
import { geminiLogprobs } from "../../../../core/providers/gemini/logprobs.ts";

describe("geminiLogprobs", () => {
  it.each([
    ["no result", undefined, null],
    ["a result without chosen tokens", { topCandidates: [] }, null],
    [
      "chosen tokens with their top candidates, bytes from the UTF-8",
      {
        chosenCandidates: [
          { token: "Hé", logProbability: -0.1 },
          { token: "!", logProbability: -0.5 },
        ],
        topCandidates: [
          {
            candidates: [
              { token: "Hé", logProbability: -0.1 },
              { token: "Hi", logProbability: -2.3 },
            ],
          },
          { candidates: [{ token: "!", logProbability: -0.5 }] },
        ],
      },
      {
        content: [
          {
            token: "Hé",
            logprob: -0.1,
            bytes: [72, 195, 169],
            top_logprobs: [
              { token: "Hé", logprob: -0.1, bytes: [72, 195, 169] },
              { token: "Hi", logprob: -2.3, bytes: [72, 105] },
            ],
          },
          {
            token: "!",
            logprob: -0.5,
            bytes: [33],
            top_logprobs: [{ token: "!", logprob: -0.5, bytes: [33] }],
          },
        ],
        refusal: null,
      },
    ],
    [
      "chosen tokens without top candidates (responseLogprobs alone)",
      { chosenCandidates: [{ token: "ok", logProbability: -0.2 }] },
      { content: [{ token: "ok", logprob: -0.2, bytes: [111, 107], top_logprobs: [] }], refusal: null },
    ],
  ])("maps %s", (_, result, expected) => {
    expect(geminiLogprobs(result)).toEqual(expected);
  });
});
