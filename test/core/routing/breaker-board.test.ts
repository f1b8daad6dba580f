import { describe, expect, it } from "vitest";
import type { BreakerConfig, ProviderConfig } from "../../../core/config/types.ts";
import { DEFAULT_BREAKER } from "../../../core/routing/breaker.ts";
import { createBreakerBoard, MAX_TARGETS } from "../../../core/routing/breaker-board.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";

function target(providerId: string, model: string, breaker?: BreakerConfig): ResolvedTarget {
  const provider: ProviderConfig = { id: providerId, kind: "mock", region: "global", models: [], breaker };
  return { provider, model, region: provider.region, weight: undefined, timeouts: DEFAULT_TIMEOUTS };
}

/** A board on a hand-driven clock. */
function board() {
  let t = 0;
  const b = createBreakerBoard(() => t);
  return {
    b,
    at(ms: number) {
      t = ms;
    },
  };
}

const failTimes = (b: ReturnType<typeof createBreakerBoard>, t: ResolvedTarget, n: number) => {
  for (let i = 0; i < n; i++) {
    expect(b.admit(t)).toBe(true);
    b.record(t, false);
  }
};

describe("createBreakerBoard", () => {
  it("reports nothing before any target is used", () => {
    expect(board().b.states().size).toBe(0);
  });

  it("reports a used target as closed, keyed by provider/model", () => {
    const { b } = board();
    const t = target("openai", "gpt-4o");
    expect(b.admit(t)).toBe(true);
    b.record(t, true);
    expect(b.states()).toEqual(new Map([["openai/gpt-4o", "closed"]]));
  });

  it("keeps targets independent: one open circuit leaves the others closed", () => {
    const { b } = board();
    const bad = target("openai", "gpt-4o");
    const sameProviderOtherModel = target("openai", "gpt-4o-mini");
    const otherProviderSameModel = target("azure", "gpt-4o");
    failTimes(b, bad, DEFAULT_BREAKER.failureThreshold);
    b.record(sameProviderOtherModel, true);
    b.record(otherProviderSameModel, true);

    expect(b.admit(bad)).toBe(false);
    expect(b.admit(sameProviderOtherModel)).toBe(true);
    expect(b.admit(otherProviderSameModel)).toBe(true);
    expect(b.states()).toEqual(
      new Map([
        ["openai/gpt-4o", "open"],
        ["openai/gpt-4o-mini", "closed"],
        ["azure/gpt-4o", "closed"],
      ]),
    );
  });

  it("shares one breaker between two target values naming the same provider/model", () => {
    const { b } = board();
    failTimes(b, target("openai", "gpt-4o"), DEFAULT_BREAKER.failureThreshold);
    expect(b.admit(target("openai", "gpt-4o"))).toBe(false);
  });

  it("uses the defaults when the provider sets no breaker", () => {
    const { b } = board();
    const t = target("openai", "gpt-4o");
    failTimes(b, t, DEFAULT_BREAKER.failureThreshold - 1);
    expect(b.states().get("openai/gpt-4o")).toBe("closed");
    failTimes(b, t, 1);
    expect(b.states().get("openai/gpt-4o")).toBe("open");
  });

  it("applies the provider's breaker overrides", () => {
    const { b, at } = board();
    const t = target("flaky", "m", { failureThreshold: 2, cooldownMs: 100 });
    failTimes(b, t, 2);
    expect(b.states().get("flaky/m")).toBe("open");

    at(99);
    expect(b.admit(t)).toBe(false);
    at(100);
    expect(b.admit(t)).toBe(true);
    expect(b.states().get("flaky/m")).toBe("half_open");
  });

  it("reports an open circuit past its cool-down as half-open before any request comes to probe it", () => {
    const { b, at } = board();
    const t = target("p", "m", { failureThreshold: 1, cooldownMs: 1_000 });
    failTimes(b, t, 1);
    at(999);
    expect(b.states().get("p/m")).toBe("open");
    at(1_000);
    expect([b.states().get("p/m"), b.wouldAdmit(t)]).toEqual(["half_open", true]);
  });

  it("walks a target through open, half-open and closed on its clock", () => {
    const { b, at } = board();
    const t = target("p", "m", { failureThreshold: 1, cooldownMs: 1_000, halfOpenProbes: 1 });
    failTimes(b, t, 1);
    expect(b.states().get("p/m")).toBe("open");

    at(1_000);
    expect(b.admit(t)).toBe(true);
    expect(b.admit(t)).toBe(false);
    expect(b.states().get("p/m")).toBe("half_open");

    b.record(t, true);
    expect(b.states().get("p/m")).toBe("closed");
    expect(b.admit(t)).toBe(true);
  });

  it("frees a half-open probe on a neutral outcome", () => {
    const { b, at } = board();
    const t = target("p", "m", { failureThreshold: 1, cooldownMs: 10 });
    failTimes(b, t, 1);
    at(10);
    expect(b.admit(t)).toBe(true);
    b.record(t, undefined);
    expect(b.states().get("p/m")).toBe("half_open");
    expect(b.admit(t)).toBe(true);
  });

  it("returns a snapshot of states that later changes do not alter", () => {
    const { b } = board();
    const t = target("p", "m", { failureThreshold: 1 });
    b.record(t, true);
    const before = b.states();
    b.record(t, false);
    expect(before.get("p/m")).toBe("closed");
    expect(b.states().get("p/m")).toBe("open");
  });

  it("stores nothing for a target that was only admitted while closed", () => {
    const { b } = board();
    expect(b.admit(target("openai", "made-up"))).toBe(true);
    expect(b.states().size).toBe(0);
  });

  it("forgets the least recently stored closed circuits past its bound, never an open one", () => {
    const { b } = board();
    const open = target("p", "down", { failureThreshold: 1 });
    failTimes(b, open, 1);
    for (let i = 0; i < MAX_TARGETS + 10; i++) b.record(target("openai", `made-up-${i}`), undefined);

    const states = b.states();
    expect(states.size).toBe(MAX_TARGETS);
    expect(states.get("p/down")).toBe("open");
    expect(states.has("openai/made-up-0")).toBe(false);
    expect(states.has(`openai/made-up-${MAX_TARGETS + 9}`)).toBe(true);
  });

  it("starts a closed circuit for a provider replaced with another endpoint", () => {
    const { b } = board();
    const old = target("p", "m", { failureThreshold: 1 });
    failTimes(b, old, 1);
    expect(b.admit(old)).toBe(false);
    const moved: ResolvedTarget = { ...old, provider: { ...old.provider, baseUrl: "http://new.example/v1" } };
    expect(b.admit(moved)).toBe(true);
    // The old endpoint's open circuit is forgotten, not shown.
    expect(b.states().has("p/m")).toBe(false);
  });
});
