import { describe, expect, it } from "vitest";
import type { ProviderConfig } from "../../../core/config/types.ts";
import { planAttempts } from "../../../core/routing/plan.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";
import { seeded } from "../../fixtures/seeded.ts";

function target(id: string, weight?: number): ResolvedTarget {
  const provider: ProviderConfig = { id, kind: "mock", region: "global", models: [] };
  return { provider, model: `${id}-model`, region: "global", weight, timeouts: DEFAULT_TIMEOUTS };
}

const ids = (plan: readonly ResolvedTarget[]) => plan.map((t) => t.provider.id);

const never = () => {
  throw new Error("random() must not be called");
};

describe("planAttempts", () => {
  it("keeps the configured order for fallback, without drawing", () => {
    const targets = [target("a", 1), target("b", 100), target("c")];
    expect(ids(planAttempts(targets, "fallback", never))).toEqual(["a", "b", "c"]);
  });

  it.each(["fallback", "loadbalance"] as const)("returns a single target unchanged under %s", (strategy) => {
    const only = target("solo", 5);
    const plan = planAttempts([only], strategy, never);
    expect(plan).toEqual([only]);
    expect(plan[0]).toBe(only);
  });

  it("returns a copy, never the configured array itself", () => {
    const targets = [target("a"), target("b")];
    expect(planAttempts(targets, "fallback", never)).not.toBe(targets);
  });

  it.each([
    // Weights 3:1:2, total 6: [0, 3) → a, [3, 4) → b, [4, 6) → c.
    { random: 0, first: "a", rest: ["b", "c"] },
    { random: 2.99 / 6, first: "a", rest: ["b", "c"] },
    { random: 3 / 6, first: "b", rest: ["a", "c"] },
    { random: 3.99 / 6, first: "b", rest: ["a", "c"] },
    { random: 4 / 6, first: "c", rest: ["a", "b"] },
    { random: 0.999_999, first: "c", rest: ["a", "b"] },
  ])(
    "loadbalance with random() = $random picks $first, then the rest in configured order",
    ({ random, first, rest }) => {
      const targets = [target("a", 3), target("b", 1), target("c", 2)];
      expect(ids(planAttempts(targets, "loadbalance", () => random))).toEqual([first, ...rest]);
    },
  );

  it("counts a missing weight as 1", () => {
    // Weights 2, (1), 1: total 4; [2, 3) → b.
    const targets = [target("a", 2), target("b"), target("c", 1)];
    expect(ids(planAttempts(targets, "loadbalance", () => 2.5 / 4))).toEqual(["b", "a", "c"]);
    expect(ids(planAttempts(targets, "loadbalance", () => 3.5 / 4))).toEqual(["c", "a", "b"]);
  });

  it("picks by weight: 3:1 weights give a first-pick ratio near 3 over 4 000 seeded draws", () => {
    const targets = [target("heavy", 3), target("light", 1)];
    const random = seeded(42);
    const firsts = { heavy: 0, light: 0 };
    for (let i = 0; i < 4_000; i++) {
      const plan = planAttempts(targets, "loadbalance", random);
      firsts[plan[0]!.provider.id as keyof typeof firsts]++;
      expect(plan).toHaveLength(2);
    }
    expect(firsts.heavy + firsts.light).toBe(4_000);
    expect(firsts.heavy / firsts.light).toBeGreaterThan(2.7);
    expect(firsts.heavy / firsts.light).toBeLessThan(3.3);
  });

  it("picks uniformly when no target has a weight", () => {
    const targets = [target("a"), target("b"), target("c"), target("d")];
    const random = seeded(7);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) {
      const first = planAttempts(targets, "loadbalance", random)[0]!.provider.id;
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    for (const id of ["a", "b", "c", "d"]) {
      expect(counts.get(id)).toBeGreaterThan(900);
      expect(counts.get(id)).toBeLessThan(1_100);
    }
  });

  it("keeps every target exactly once", () => {
    const targets = [target("a", 1), target("b", 2), target("c", 3)];
    const random = seeded(1);
    for (let i = 0; i < 100; i++) {
      expect(ids(planAttempts(targets, "loadbalance", random)).sort()).toEqual(["a", "b", "c"]);
    }
  });
});
