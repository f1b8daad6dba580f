import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../../core/gateway/attempts.ts";
import { newOutcome, outcomeFields } from "../../../core/gateway/outcome.ts";

describe("outcomeFields (the request log line)", () => {
  it.each<[string, AttemptRecord[], string]>([
    ["no attempt", [], ""],
    ["a served call", [{ provider: "oa", model: "gpt", outcome: "ok", ms: 3 }], "oa/gpt:ok"],
    [
      "a refused call, then a skipped target, then a served one",
      [
        { provider: "oa", model: "gpt", outcome: "failed", code: "upstream_http_error", status: 502, ms: 2 },
        { provider: "an", model: "claude", outcome: "skipped", ms: 0 },
        { provider: "ge", model: "gemini", outcome: "ok", ms: 4 },
      ],
      "oa/gpt:failed:upstream_http_error,an/claude:skipped,ge/gemini:ok",
    ],
    [
      "a call that failed after its provider answered (billed)",
      [
        {
          provider: "oa",
          model: "gpt",
          outcome: "failed",
          code: "upstream_reset",
          ms: 2,
          answered: true,
          costUsd: 0.01,
        },
        { provider: "oa", model: "gpt", outcome: "ok", ms: 3 },
      ],
      "oa/gpt:failed:upstream_reset:answered,oa/gpt:ok",
    ],
  ])("writes the attempts of %s as one string", (_, attempts, expected) => {
    const outcome = { ...newOutcome("req-1", "/v1/chat/completions"), attempts };
    const fields = outcomeFields(outcome);
    expect(fields.attempts).toBe(expected);
    expect(fields.requestId).toBe("req-1");
  });
});
