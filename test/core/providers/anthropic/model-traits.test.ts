import { describe, expect, it } from "vitest";
import {
  maxOutputTokens,
  refusesPrefill,
  refusesSampling,
  takesOneSampler,
  takesXhighEffort,
  thinksAdaptively,
} from "../../../../core/providers/anthropic/model-traits.ts";

describe("what a Claude model takes, read from its id", () => {
  it.each([
    // model, thinks adaptively, refuses sampling, refuses a prefill
    ["claude-opus-4-8", true, true, true],
    ["claude-opus-4-7", true, true, true],
    ["claude-opus-4-6", true, false, true],
    ["claude-sonnet-4-6", true, false, false],
    ["claude-sonnet-5", true, true, true],
    ["claude-opus-5-5", true, true, true],
    ["claude-haiku-5-5", true, true, true],
    ["claude-fable-5-2", true, true, true],
    ["claude-mythos-preview", true, true, true],
    ["claude-sonnet-4-5", false, false, false],
    ["claude-sonnet-4-5-20250929", false, false, false],
    ["claude-opus-4-5-20251101", false, false, false],
    ["claude-haiku-4-5", false, false, false],
    ["claude-opus-4-1", false, false, false],
    ["claude-opus-4-20250514", false, false, false],
    ["claude-3-7-sonnet-20250219", false, false, false],
    ["my-finetune", false, false, false],
  ])(
    "%s: adaptive thinking %s, sampling refused %s, prefill refused %s",
    (model, adaptive, noSampling, noPrefill) => {
      expect(thinksAdaptively(model)).toBe(adaptive);
      expect(refusesSampling(model)).toBe(noSampling);
      expect(refusesPrefill(model)).toBe(noPrefill);
    },
  );

  it.each([
    ["claude-opus-4-1", true],
    ["claude-sonnet-4-5-20250929", true],
    ["claude-haiku-4-5", true],
    ["claude-sonnet-4-6", true],
    ["claude-opus-4-8", true],
    ["claude-opus-4-20250514", false],
    ["claude-3-7-sonnet-20250219", false],
    ["my-finetune", false],
  ])("%s takes only one of temperature and top_p: %s", (model, one) => {
    expect(takesOneSampler(model)).toBe(one);
  });

  it.each([
    // Anthropic's models overview and model pages.
    ["claude-opus-4-20250514", 32_000],
    ["claude-opus-4-1-20250805", 32_000],
    ["claude-sonnet-4-20250514", 64_000],
    ["claude-sonnet-4-5-20250929", 64_000],
    ["claude-haiku-4-5", 64_000],
    ["claude-opus-4-5-20251101", 64_000],
    ["claude-3-7-sonnet-20250219", 64_000],
    ["claude-3-5-haiku-20241022", 8_192],
    ["claude-3-haiku-20240307", 4_096],
    ["claude-opus-4-6", 128_000],
    ["claude-sonnet-4-6", 128_000],
    ["claude-opus-4-8", 128_000],
    ["claude-haiku-5-5", 128_000],
    ["claude-fable-5-2", 128_000],
    ["claude-mythos-preview", 128_000],
    ["claude-sonnet-latest", undefined],
    ["my-finetune", undefined],
  ])("%s writes at most %s tokens in one answer", (model, cap) => {
    expect(maxOutputTokens(model)).toBe(cap);
  });

  it.each([
    ["claude-opus-4-7", true],
    ["claude-opus-4-8", true],
    ["claude-sonnet-5", true],
    ["claude-fable-5", true],
    ["claude-mythos-5", true],
    ["claude-opus-4-6", false],
    ["claude-sonnet-4-6", false],
    ["claude-mythos-preview", false],
    ["my-finetune", false],
  ])("%s takes the xhigh effort: %s", (model, xhigh) => {
    expect(takesXhighEffort(model)).toBe(xhigh);
  });
});
