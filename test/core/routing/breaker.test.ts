import { describe, expect, it } from "vitest";
import {
  admit,
  admitsInMs,
  type BreakerSettings,
  type BreakerState,
  CLOSED,
  DEFAULT_BREAKER,
  record,
} from "../../../core/routing/breaker.ts";

/** Settings where the consecutive-failure rule cannot fire, to isolate the failure-rate rule. */
const rateOnly: BreakerSettings = {
  ...DEFAULT_BREAKER,
  failureThreshold: 1_000,
  failureRate: 0.5,
  minimumRequests: 10,
  windowMs: 10_000,
};

/** Records a run of outcomes at one instant. */
function recordAll(state: BreakerState, outcomes: readonly boolean[], now: number, s: BreakerSettings) {
  return outcomes.reduce((st, ok) => record(st, ok, now, s), state);
}

const fails = (n: number) => Array<boolean>(n).fill(false);
const successes = (n: number) => Array<boolean>(n).fill(true);

/** An open breaker, opened at `openedAt` by `failureThreshold` consecutive failures. */
function openedAt(openedAt: number, s: BreakerSettings = DEFAULT_BREAKER): BreakerState {
  const state = recordAll(CLOSED, fails(s.failureThreshold), openedAt, s);
  expect(state).toEqual({ kind: "open", openedAt });
  return state;
}

describe("breaker: closed", () => {
  it("admits every request", () => {
    expect(admit(CLOSED, 0, DEFAULT_BREAKER)).toEqual({ admitted: true, state: CLOSED });
  });

  it("stays closed under a long run of successes", () => {
    const state = recordAll(CLOSED, successes(500), 1_000, DEFAULT_BREAKER);
    expect(state.kind).toBe("closed");
  });

  it("opens after failureThreshold consecutive failures, not one before", () => {
    const s = { ...DEFAULT_BREAKER, failureThreshold: 3, minimumRequests: 1_000 };
    const almost = recordAll(CLOSED, fails(2), 0, s);
    expect(almost).toMatchObject({ kind: "closed", consecutiveFailures: 2 });
    expect(record(almost, false, 5, s)).toEqual({ kind: "open", openedAt: 5 });
  });

  it("resets the consecutive count on a success", () => {
    const s = { ...DEFAULT_BREAKER, failureThreshold: 3, minimumRequests: 1_000 };
    const state = recordAll(CLOSED, [false, false, true, false, false], 0, s);
    expect(state).toMatchObject({ kind: "closed", consecutiveFailures: 2 });
  });

  it("ignores a neutral outcome", () => {
    const state = recordAll(CLOSED, fails(2), 0, DEFAULT_BREAKER);
    expect(record(state, undefined, 1, DEFAULT_BREAKER)).toBe(state);
  });

  it("opens when the failure rate over the window reaches failureRate once minimumRequests is reached", () => {
    // Alternating outcomes: a 50 % failure rate, never two failures in a row.
    const alternating = (n: number) => Array.from({ length: n }, (_, i) => i % 2 === 0);
    const nine = recordAll(CLOSED, alternating(9), 0, rateOnly);
    expect(nine.kind).toBe("closed");
    // The 10th request is a failure: 5 of 10 failed.
    expect(record(nine, false, 0, rateOnly)).toEqual({ kind: "open", openedAt: 0 });
  });

  it("opens on the call that brings the rate to failureRate, a success included", () => {
    // Failure first: after nine calls 5 of 9 failed, too few seen; the 10th, a success, makes 5 of 10.
    const alternating = Array.from({ length: 9 }, (_, i) => i % 2 === 1);
    const nine = recordAll(CLOSED, alternating, 0, rateOnly);
    expect(nine.kind).toBe("closed");
    expect(record(nine, true, 0, rateOnly)).toEqual({ kind: "open", openedAt: 0 });
  });

  it("does not open on the failure rate before minimumRequests have been seen", () => {
    const s = { ...rateOnly, failureThreshold: 5 };
    // 4 failures out of 4: a 100 % rate, but too few requests and below the consecutive threshold.
    const state = recordAll(CLOSED, fails(4), 0, s);
    expect(state).toMatchObject({ kind: "closed", consecutiveFailures: 4 });
  });

  it("does not open while the failure rate stays below failureRate", () => {
    // 4 failures in 10 requests (40 %), then successes.
    const state = recordAll(
      CLOSED,
      [true, false, true, false, true, false, true, false, true, true],
      0,
      rateOnly,
    );
    expect(state.kind).toBe("closed");
  });

  it("lets old outcomes slide out of the window", () => {
    // Nine failures at t=0 (the consecutive rule cannot fire under these settings).
    const early = recordAll(CLOSED, fails(9), 0, rateOnly);
    expect(early.kind).toBe("closed");
    // Well past the window, one more failure: the nine old ones no longer count, so 1 of 1 < minimum.
    const later = record(early, false, rateOnly.windowMs * 2, rateOnly);
    expect(later).toMatchObject({ kind: "closed" });
    // Same failure inside the window trips it: 10 of 10.
    expect(record(early, false, rateOnly.windowMs / 2, rateOnly)).toEqual({
      kind: "open",
      openedAt: rateOnly.windowMs / 2,
    });
  });

  it("keeps its slice array small under 10 000 requests at one per millisecond", () => {
    const s = { ...DEFAULT_BREAKER, failureThreshold: 1_000_000, minimumRequests: 1_000_000 };
    let state: BreakerState = CLOSED;
    let largest = 0;
    for (let now = 0; now < 10_000; now++) {
      state = record(state, now % 3 !== 0, now, s);
      if (state.kind !== "closed") throw new Error(`unexpected state ${state.kind}`);
      largest = Math.max(largest, state.slices.length);
    }
    expect(largest).toBeLessThanOrEqual(11);
  });

  it("keeps its slice array small with a short window too", () => {
    const s = { ...DEFAULT_BREAKER, windowMs: 100, failureThreshold: 1_000_000, minimumRequests: 1_000_000 };
    let state: BreakerState = CLOSED;
    for (let now = 0; now < 10_000; now++) {
      state = record(state, true, now, s);
      if (state.kind === "closed") expect(state.slices.length).toBeLessThanOrEqual(11);
    }
  });
});

describe("breaker: open", () => {
  const s: BreakerSettings = {
    ...DEFAULT_BREAKER,
    failureThreshold: 2,
    cooldownMs: 1_000,
    halfOpenProbes: 1,
  };

  it.each([0, 1, 500, 999])("refuses a request %i ms after opening", (elapsed) => {
    const open = openedAt(10_000, s);
    expect(admit(open, 10_000 + elapsed, s)).toEqual({ admitted: false, state: open });
  });

  it("admits one probe once the cool-down has passed and turns half-open", () => {
    const open = openedAt(10_000, s);
    expect(admit(open, 11_000, s)).toEqual({
      admitted: true,
      state: { kind: "half_open", probesInFlight: 1 },
    });
  });

  it("stays open when a late result arrives while open", () => {
    const open = openedAt(10_000, s);
    expect(record(open, true, 10_500, s)).toBe(open);
    expect(record(open, false, 10_500, s)).toBe(open);
    expect(record(open, undefined, 10_500, s)).toBe(open);
  });
});

describe("breaker: half-open", () => {
  const base: BreakerSettings = { ...DEFAULT_BREAKER, failureThreshold: 2, cooldownMs: 1_000 };

  /** Admits probes one after another after the cool-down; returns each verdict and the final state. */
  function probe(halfOpenProbes: number, tries: number) {
    const s = { ...base, halfOpenProbes };
    let state = openedAt(0, s);
    const admitted: boolean[] = [];
    for (let i = 0; i < tries; i++) {
      const r = admit(state, 1_000 + i, s);
      admitted.push(r.admitted);
      state = r.state;
    }
    return { admitted, state, s };
  }

  it.each([
    { halfOpenProbes: 1, expected: [true, false, false] },
    { halfOpenProbes: 2, expected: [true, true, false] },
    { halfOpenProbes: 3, expected: [true, true, true, false] },
  ])("admits exactly $halfOpenProbes probe(s) while they are in flight", ({ halfOpenProbes, expected }) => {
    const { admitted, state } = probe(halfOpenProbes, expected.length);
    expect(admitted).toEqual(expected);
    expect(state).toEqual({ kind: "half_open", probesInFlight: halfOpenProbes });
  });

  it("closes on a successful probe", () => {
    const { state, s } = probe(1, 1);
    expect(record(state, true, 1_100, s)).toEqual(CLOSED);
  });

  it("re-opens on a failed probe with a new openedAt, so the cool-down restarts", () => {
    const { state, s } = probe(1, 1);
    const reopened = record(state, false, 1_100, s);
    expect(reopened).toEqual({ kind: "open", openedAt: 1_100 });
    expect(admit(reopened, 2_000, s).admitted).toBe(false);
    expect(admit(reopened, 2_099, s).admitted).toBe(false);
    expect(admit(reopened, 2_100, s).admitted).toBe(true);
  });

  it("frees a probe slot on a neutral outcome without deciding", () => {
    const { state, s } = probe(1, 1);
    const freed = record(state, undefined, 1_100, s);
    expect(freed).toEqual({ kind: "half_open", probesInFlight: 0 });
    const next = admit(freed, 1_200, s);
    expect(next).toEqual({ admitted: true, state: { kind: "half_open", probesInFlight: 1 } });
  });

  it("never counts probes in flight below zero", () => {
    const s = { ...base, halfOpenProbes: 1 };
    const empty: BreakerState = { kind: "half_open", probesInFlight: 0 };
    expect(record(empty, undefined, 0, s)).toEqual({ kind: "half_open", probesInFlight: 0 });
  });

  it("counts afresh after closing: old failures do not linger", () => {
    const { state, s } = probe(1, 1);
    const closed = record(state, true, 1_100, s);
    // One failure after recovery is below failureThreshold (2).
    expect(record(closed, false, 1_200, s)).toMatchObject({ kind: "closed", consecutiveFailures: 1 });
  });
});

describe("admitsInMs", () => {
  it.each<[string, BreakerState, number | undefined]>([
    ["a closed circuit admits now", CLOSED, 0],
    ["an open circuit admits when its cool-down ends", { kind: "open", openedAt: 10_000 }, 11_000],
    ["an open circuit past its cool-down admits now", { kind: "open", openedAt: -5_000 }, 0],
    ["a half-open circuit with a free probe admits now", { kind: "half_open", probesInFlight: 0 }, 0],
    [
      "a half-open circuit with its probes out cannot say",
      { kind: "half_open", probesInFlight: 1 },
      undefined,
    ],
  ])("%s", (_, state, ms) => {
    // DEFAULT_BREAKER: 15 s cool-down, one probe; the clock reads 14 000.
    expect(admitsInMs(state, 14_000, DEFAULT_BREAKER)).toBe(ms);
  });
});
