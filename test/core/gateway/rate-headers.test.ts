import { describe, expect, it } from "vitest";
import { rateLimitHeaders } from "../../../core/gateway/rate-headers.ts";

const buckets = [
  { name: "key:k1:requests", limit: 10, amount: 1 },
  { name: "org:acme:requests", limit: 5, amount: 1 },
  { name: "key:k1:tokens", limit: 1000, amount: 120 },
];
const NOW = 1_000_000_000;

describe("rateLimitHeaders", () => {
  it("reports the tighter of key and org limits, as the caller will hit it first", () => {
    const remaining = { "key:k1:requests": 9, "org:acme:requests": 2, "key:k1:tokens": 880 };
    expect(rateLimitHeaders(buckets, { ok: true, remaining, resetAt: NOW + 42_000 }, NOW)).toEqual({
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "2",
      "x-ratelimit-reset-requests": "42s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "880",
      "x-ratelimit-reset-tokens": "42s",
    });
  });

  it.each([
    [42_000, "42s"],
    [59_001, "1m0s"],
    [60_000, "1m0s"],
    [0, "0s"],
  ])("writes a reset %i ms away as OpenAI does: %s", (ms, text) => {
    const headers = rateLimitHeaders(
      buckets.slice(0, 1),
      { ok: true, remaining: {}, resetAt: NOW + ms },
      NOW,
    );
    expect(headers["x-ratelimit-reset-requests"]).toBe(text);
  });
});
