import type { BreakerConfig } from "../config/types.ts";

export type BreakerSettings = Required<BreakerConfig>;

export const DEFAULT_BREAKER: BreakerSettings = {
  failureThreshold: 5,
  failureRate: 0.5,
  minimumRequests: 10,
  windowMs: 30_000,
  cooldownMs: 15_000,
  halfOpenProbes: 1,
};

/** Outcomes counted in slices of the window, so memory stays bounded whatever the request rate. */
const SLICES = 10;

interface Slice {
  start: number;
  ok: number;
  failed: number;
}

export type BreakerState =
  | { kind: "closed"; consecutiveFailures: number; slices: readonly Slice[] }
  | { kind: "open"; openedAt: number }
  | { kind: "half_open"; probesInFlight: number };

export const CLOSED: BreakerState = { kind: "closed", consecutiveFailures: 0, slices: [] };

/**
 * May a request go to this target now? Closed: yes. Open: no, until the cool-down has passed; then the
 * circuit turns half-open and admits up to `halfOpenProbes` requests at once. Pure: returns the new state.
 */
export function admit(
  state: BreakerState,
  now: number,
  s: BreakerSettings,
): { admitted: boolean; state: BreakerState } {
  switch (state.kind) {
    case "closed":
      return { admitted: true, state };
    case "open":
      if (now - state.openedAt < s.cooldownMs) return { admitted: false, state };
      return { admitted: true, state: { kind: "half_open", probesInFlight: 1 } };
    case "half_open":
      if (state.probesInFlight >= s.halfOpenProbes) return { admitted: false, state };
      return { admitted: true, state: { kind: "half_open", probesInFlight: state.probesInFlight + 1 } };
  }
}

/**
 * How long until `admit` would let a request through: 0 when it would now, the rest of the cool-down for
 * an open circuit, undefined for a half-open one whose probes are all out (it depends on their answers).
 */
export function admitsInMs(state: BreakerState, now: number, s: BreakerSettings): number | undefined {
  switch (state.kind) {
    case "closed":
      return 0;
    case "open":
      return Math.max(0, s.cooldownMs - (now - state.openedAt));
    case "half_open":
      return state.probesInFlight >= s.halfOpenProbes ? undefined : 0;
  }
}

/**
 * Records an attempt's verdict. Closed opens after `failureThreshold` consecutive failures, or when the
 * failure rate over `windowMs` reaches `failureRate` with at least `minimumRequests` seen. Half-open
 * closes on a successful probe and re-opens on a failed one. `ok: undefined` is a neutral outcome (the
 * caller's fault, a client gone away): it only frees a probe slot.
 */
export function record(
  state: BreakerState,
  ok: boolean | undefined,
  now: number,
  s: BreakerSettings,
): BreakerState {
  if (state.kind === "open") return state;
  if (state.kind === "half_open") {
    if (ok === undefined) return { kind: "half_open", probesInFlight: Math.max(0, state.probesInFlight - 1) };
    return ok ? CLOSED : { kind: "open", openedAt: now };
  }
  if (ok === undefined) return state;
  const slices = addToWindow(state.slices, ok, now, s.windowMs);
  const consecutiveFailures = ok ? 0 : state.consecutiveFailures + 1;
  const { total, failed } = slices.reduce(
    (a, x) => ({ total: a.total + x.ok + x.failed, failed: a.failed + x.failed }),
    {
      total: 0,
      failed: 0,
    },
  );
  const rateTripped = total >= s.minimumRequests && failed / total >= s.failureRate;
  // The rate is judged after every call, a success included: a window that has reached the rate with
  // enough calls seen is the provider's ill health, whatever its last call did.
  if ((!ok && consecutiveFailures >= s.failureThreshold) || rateTripped)
    return { kind: "open", openedAt: now };
  return { kind: "closed", consecutiveFailures, slices };
}

function addToWindow(slices: readonly Slice[], ok: boolean, now: number, windowMs: number): Slice[] {
  const width = Math.max(1, Math.floor(windowMs / SLICES));
  const start = now - (now % width);
  const kept = slices.filter((x) => x.start > now - windowMs);
  const last = kept.at(-1);
  if (last && last.start === start) {
    kept[kept.length - 1] = { start, ok: last.ok + (ok ? 1 : 0), failed: last.failed + (ok ? 0 : 1) };
  } else kept.push({ start, ok: ok ? 1 : 0, failed: ok ? 0 : 1 });
  return kept;
}
