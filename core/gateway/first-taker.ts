import { GatewayError } from "../api/errors.ts";
import { decide } from "../routing/failure.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";

/** A target that takes the request, and the request as mapped for it. */
export interface Taken<T> {
  target: ResolvedTarget;
  mapped: T;
}

/** What the pre-flight found: the plan without the targets that cannot take the request, and a taker. */
export interface Preflight<T> {
  plan: ResolvedTarget[];
  taken: Taken<T> | undefined;
}

/**
 * Maps the request for the plan's targets, in order, before rate limits, budgets and circuits are
 * consulted, and decides what the attempts would: a request that no target can take is refused here
 * with what they would have ended on (heardRefusal), so it spends no minute's request and no budget,
 * and is not told to retry an open circuit. A target's refusal ends the search where it would end the
 * attempts (a `fail` decision at a target `admits` lets through); one the attempts would move past
 * (`next`: a parameter it cannot take, no embeddings API), or at a target an open circuit would skip,
 * does not, and that target leaves the plan: the budget's worst case is not priced at it, and no
 * attempt is spent on it. Targets after the taker are not mapped (the attempts map them if they get
 * there). The taker is the first target `admits` that takes the request, else the first that takes it
 * at all (the attempts then meet open circuits: 503 `circuit_open`). Mapping is pure: its result serves
 * the taker's first call (`mappedFor`), so a served request maps once.
 */
export function firstTaker<T>(
  plan: readonly ResolvedTarget[],
  map: (target: ResolvedTarget) => T,
  admits: (target: ResolvedTarget) => boolean,
): Preflight<T> {
  const refusals: Array<{ err: GatewayError; admitted: boolean }> = [];
  const refused = new Set<ResolvedTarget>();
  let behindOpenCircuit: Taken<T> | undefined;
  const rest = () => plan.filter((t) => !refused.has(t));
  for (const target of plan) {
    let mapped: T;
    try {
      mapped = map(target);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      const admitted = admits(target);
      if (decide(err).action === "fail" && admitted) throw err;
      refusals.push({ err, admitted });
      refused.add(target);
      continue;
    }
    if (admits(target)) return { plan: rest(), taken: { target, mapped } };
    behindOpenCircuit ??= { target, mapped };
  }
  if (behindOpenCircuit) return { plan: rest(), taken: behindOpenCircuit };
  // The attempts hear only the targets their circuits let through; when none did, every refusal.
  const heard = refusals.filter((r) => r.admitted);
  if (refusals.length > 0) throw heardRefusal((heard.length > 0 ? heard : refusals).map((r) => r.err));
  return { plan: [...plan], taken: undefined };
}

/**
 * Which of the targets' refusals the caller hears, as the attempts decide it (attempts.ts): the first
 * when every one is a parameter the target cannot take (it names the parameter), else the last.
 */
export const heardRefusal = (refusals: readonly GatewayError[]): GatewayError =>
  refusals.every((r) => r.code === "unsupported_parameter") ? refusals[0]! : refusals.at(-1)!;

/** The mapping `firstTaker` made for `target`, or a new one for any other. */
export const mappedFor = <T>(taken: Taken<T> | undefined, target: ResolvedTarget, map: () => T): T =>
  taken?.target === target ? taken.mapped : map();
