import { describe, expect, it } from "vitest";
import { createSampler } from "../../../core/audit/sampler.ts";

/** A sampler on a clock the test moves; `takes(n)` says how many of n takes were allowed. */
function sampled(perMinute: number, start = 0) {
  let t = start;
  const sampler = createSampler(perMinute, () => t);
  return {
    at: (ms: number) => {
      t = ms;
    },
    takes: (n: number) => Array.from({ length: n }, () => sampler.take()),
  };
}

const allowed = (takes: Array<{ allowed: boolean }>) => takes.filter((x) => x.allowed).length;

describe("the audit sampler", () => {
  it("allows at most its cap in any minute, also across a minute's boundary", () => {
    const s = sampled(60, 59_000);
    expect(allowed(s.takes(100))).toBe(60);
    // A calendar minute later, but only a second after the burst: still the same sliding minute.
    s.at(61_000);
    expect(allowed(s.takes(100))).toBe(0);
    s.at(119_000);
    expect(allowed(s.takes(100))).toBe(60);
  });

  it("frees one place as each allowed record turns a minute old", () => {
    const s = sampled(2);
    s.at(0);
    s.takes(1);
    s.at(30_000);
    s.takes(1);
    expect(allowed(s.takes(1))).toBe(0);
    s.at(60_000);
    expect(allowed(s.takes(2))).toBe(1);
    s.at(90_000);
    expect(allowed(s.takes(2))).toBe(1);
  });

  it("tells the next allowed record how many were suppressed since the last one", () => {
    const s = sampled(1);
    const [first, ...held] = s.takes(4);
    expect(first).toEqual({ allowed: true, suppressed: 0 });
    expect(held.every((x) => !x.allowed)).toBe(true);
    s.at(60_000);
    expect(s.takes(2)).toEqual([
      { allowed: true, suppressed: 3 },
      { allowed: false, suppressed: 0 },
    ]);
  });
});
