import { GatewayError } from "../api/errors.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";

/** A target that takes the request, and the request as mapped for it. */
export interface Taken<T> {
  target: ResolvedTarget;
  mapped: T;
}

/**
 * The first target in the plan whose adapter takes the request, and its mapping, found before rate
 * limits, budgets and circuits are consulted. A request that no target can take is refused here with
 * what the attempts would have ended on (the first `unsupported_parameter`, or another refusal at once),
 * so it spends no minute's request, no budget, and is not told to retry an open circuit. Mapping is pure,
 * so the result serves that target's first call (`mappedFor`) and costs a served request nothing extra.
 */
export function firstTaker<T>(
  plan: readonly ResolvedTarget[],
  map: (target: ResolvedTarget) => T,
): Taken<T> | undefined {
  let incompatible: GatewayError | undefined;
  for (const target of plan) {
    try {
      return { target, mapped: map(target) };
    } catch (err) {
      if (!(err instanceof GatewayError) || err.code !== "unsupported_parameter") throw err;
      incompatible ??= err;
    }
  }
  if (incompatible) throw incompatible;
  // An empty plan: nothing to map, and the attempts say why.
  return undefined;
}

/** The mapping `firstTaker` made for `target`, or a new one for any other. */
export const mappedFor = <T>(taken: Taken<T> | undefined, target: ResolvedTarget, map: () => T): T =>
  taken?.target === target ? taken.mapped : map();
