import type { BreakerConfig } from "../config/types.ts";
import { admit, admitsInMs, type BreakerState, CLOSED, DEFAULT_BREAKER, record } from "./breaker.ts";
import type { ResolvedTarget } from "./resolve.ts";

/**
 * The circuit breakers of one process, one per target (provider + provider model). State lives in memory
 * only: each Lambda container and each portable process learns a provider's health on its own, so an
 * outage opens the circuit in every instance after that instance's own failures (at most
 * `failureThreshold` wasted calls each), and a recovery closes it per instance after one good probe.
 */
export interface BreakerBoard {
  admit(target: ResolvedTarget): boolean;
  /** Whether `admit` would let a request through now, without changing any state. */
  wouldAdmit(target: ResolvedTarget): boolean;
  /** true: success; false: a failure that counts against the target; undefined: neutral. */
  record(target: ResolvedTarget, ok: boolean | undefined): void;
  /** How long until `admit` would let a request through (see breaker.ts `admitsInMs`). */
  admitsInMs(target: ResolvedTarget): number | undefined;
  /**
   * State per target key (`provider/model`) as a request would find it now, for metrics and tests: an
   * open circuit past its cool-down is half-open (it admits a probe), though it changes only when one
   * comes.
   */
  states(): ReadonlyMap<string, BreakerState["kind"]>;
}

/**
 * Targets the board remembers. A caller can name any `provider/model`, so without a bound every made-up
 * name would stay in memory for good; past it, the least recently stored closed circuit is forgotten
 * (it only loses its recent outcome counts). Open and half-open circuits are never dropped.
 */
export const MAX_TARGETS = 4096;

const keyOf = (t: ResolvedTarget) => `${t.provider.id}/${t.model}`;
/**
 * Where a target's calls go. A provider replaced with another endpoint (an admin PUT with a new
 * `baseUrl`) is another service: its circuit starts closed, instead of skipping the new endpoint for the
 * rest of the old one's cool-down.
 */
const endpointOf = (t: ResolvedTarget) => `${t.provider.kind} ${t.provider.baseUrl ?? ""}`;
const settingsOf = (config: BreakerConfig | undefined) => ({ ...DEFAULT_BREAKER, ...config });

interface Entry {
  state: BreakerState;
  endpoint: string;
  cooldownMs: number;
}

export function createBreakerBoard(now: () => number = Date.now): BreakerBoard {
  const states = new Map<string, Entry>();
  const current = (target: ResolvedTarget): BreakerState => {
    const key = keyOf(target);
    const entry = states.get(key);
    if (!entry) return CLOSED;
    if (entry.endpoint === endpointOf(target)) return entry.state;
    // The old endpoint's record says nothing about this one.
    states.delete(key);
    return CLOSED;
  };
  const store = (target: ResolvedTarget, state: BreakerState) => {
    const key = keyOf(target);
    // Re-inserting moves the key to the end: Map order is then least recently stored first.
    states.delete(key);
    const { cooldownMs } = settingsOf(target.provider.breaker);
    states.set(key, { state, endpoint: endpointOf(target), cooldownMs });
    if (states.size <= MAX_TARGETS) return;
    for (const [k, e] of states) {
      if (e.state.kind !== "closed") continue;
      states.delete(k);
      return;
    }
  };
  return {
    admit(target) {
      const before = current(target);
      const result = admit(before, now(), settingsOf(target.provider.breaker));
      // A closed circuit admits without changing: storing it would only grow the map.
      if (result.state !== before) store(target, result.state);
      return result.admitted;
    },
    wouldAdmit(target) {
      return admit(current(target), now(), settingsOf(target.provider.breaker)).admitted;
    },
    admitsInMs(target) {
      return admitsInMs(current(target), now(), settingsOf(target.provider.breaker));
    },
    record(target, ok) {
      store(target, record(current(target), ok, now(), settingsOf(target.provider.breaker)));
    },
    states() {
      const at = now();
      const kindOf = ({ state, cooldownMs }: Entry) =>
        state.kind === "open" && at - state.openedAt >= cooldownMs ? "half_open" : state.kind;
      return new Map([...states].map(([k, e]) => [k, kindOf(e)]));
    },
  };
}
