import { GatewayError } from "../api/errors.ts";
import { decide } from "../routing/failure.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";

/** A target that takes the request, and the request as mapped for it. */
export interface Taken<T> {
  target: ResolvedTarget;
  mapped: T;
}

/**
 * Maps the request for the plan's targets, in order, before rate limits, budgets and circuits are
 * consulted, and decides what the attempts would: a request that no target can take is refused here
 * with what they would have ended on, so it spends no minute's request and no budget, and is not told
 * to retry an open circuit. A target's refusal ends the search where it would end the attempts (a `fail`
 * decision at a target `admits` lets through); one the attempts would move past (`next`: a parameter it
 * cannot take, no embeddings API), or at a target an open circuit would skip, does not.
 * Returns the first target `admits` that takes it, else the first that takes it at all (the attempts
 * then meet open circuits: 503 `circuit_open`), else undefined for an empty plan. Mapping is pure: the
 * result serves its target's first call (`mappedFor`), so a served request maps once.
 */
export function firstTaker<T>(
  plan: readonly ResolvedTarget[],
  map: (target: ResolvedTarget) => T,
  admits: (target: ResolvedTarget) => boolean,
): Taken<T> | undefined {
  let behindOpenCircuit: Taken<T> | undefined;
  let refusal: GatewayError | undefined;
  for (const target of plan) {
    let mapped: T;
    try {
      mapped = map(target);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (decide(err).action === "fail" && admits(target)) throw err;
      refusal ??= err;
      continue;
    }
    if (admits(target)) return { target, mapped };
    behindOpenCircuit ??= { target, mapped };
  }
  if (behindOpenCircuit) return behindOpenCircuit;
  if (refusal) throw refusal;
  return undefined;
}

/** The mapping `firstTaker` made for `target`, or a new one for any other. */
export const mappedFor = <T>(taken: Taken<T> | undefined, target: ResolvedTarget, map: () => T): T =>
  taken?.target === target ? taken.mapped : map();
