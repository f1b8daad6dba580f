import { describe, expect, it } from "vitest";
import { backoffMs, DEFAULT_RETRY, parseRetryAfter, retryPolicy } from "../../../core/routing/retry.ts";

describe("backoffMs", () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 2_000 };
  const ceilingOf = (retry: number) => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);

  it.each([
    { retry: 0, ceiling: 100 },
    { retry: 1, ceiling: 200 },
    { retry: 2, ceiling: 400 },
    { retry: 3, ceiling: 800 },
    { retry: 4, ceiling: 1_600 },
    { retry: 5, ceiling: 2_000 },
    { retry: 10, ceiling: 2_000 },
    { retry: 2_000, ceiling: 2_000 },
  ])("stays within [0, $ceiling) on retry $retry", ({ retry, ceiling }) => {
    expect(ceilingOf(retry)).toBe(ceiling);
    expect(backoffMs(retry, policy, () => 0)).toBe(0);
    const top = backoffMs(retry, policy, () => 0.999_999);
    expect(top).toBeGreaterThanOrEqual(ceiling - 1);
    expect(top).toBeLessThan(ceiling);
  });

  it("is an integer for any random draw", () => {
    for (const r of [0.1, 0.123_456, 0.5, 0.77])
      expect(Number.isInteger(backoffMs(3, policy, () => r))).toBe(true);
  });

  it("grows exponentially until it reaches the cap", () => {
    const half = (retry: number) => backoffMs(retry, policy, () => 0.5);
    expect([0, 1, 2, 3, 4, 5, 6].map(half)).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);

  it.each([
    { value: "0", ms: 0 },
    { value: "7", ms: 7_000 },
    { value: "120", ms: 120_000 },
    { value: " 3 ", ms: 3_000 },
  ])("reads delta-seconds '$value' as $ms ms", ({ value, ms }) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it("reads a future IMF-fixdate as the milliseconds until then", () => {
    expect(parseRetryAfter(new Date(now + 3_000).toUTCString(), now)).toBe(3_000);
  });

  it.each([
    { form: "RFC 850", value: "Wednesday, 15-Jan-25 12:00:09 GMT" },
    { form: "asctime", value: "Wed Jan 15 12:00:09 2025" },
  ])("reads the obsolete $form date form", ({ value }) => {
    expect(parseRetryAfter(value, now)).toBe(9_000);
  });

  it("reads a date in the past as no wait", () => {
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it.each([
    { why: "an absent value", value: undefined },
    { why: "an empty value", value: "" },
    { why: "a blank value", value: "   " },
    { why: "a garbage value", value: "soon" },
    { why: "a negative number", value: "-5" },
    { why: "minus one", value: "-1" },
    { why: "an explicitly signed number", value: "+5" },
    { why: "a fractional number", value: "1.5" },
    { why: "a number in exponent notation", value: "1e3" },
    { why: "a hexadecimal number", value: "0x10" },
    { why: "a number with a unit", value: "5s" },
    { why: "a bare year", value: "2024 GMT" },
    { why: "an ISO date without a day name", value: "2025-01-15T12:00:09Z" },
  ])("rejects $why", ({ value }) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("retryPolicy", () => {
  it("is the defaults when nothing is configured", () => {
    expect(retryPolicy(undefined)).toEqual(DEFAULT_RETRY);
    expect(retryPolicy({})).toEqual(DEFAULT_RETRY);
  });

  it("merges overrides onto the defaults", () => {
    expect(retryPolicy({ maxAttempts: 2, retryAfterCapMs: 1_000 })).toEqual({
      ...DEFAULT_RETRY,
      maxAttempts: 2,
      retryAfterCapMs: 1_000,
    });
  });

  it("does not alter the defaults", () => {
    const before = { ...DEFAULT_RETRY };
    retryPolicy({ maxAttempts: 9 });
    expect(DEFAULT_RETRY).toEqual(before);
  });
});
