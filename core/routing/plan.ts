import type { ResolvedTarget } from "./resolve.ts";

/**
 * The order in which targets are tried. `fallback`: as configured. `loadbalance`: one target drawn with
 * probability proportional to its weight (default 1), then the others in configured order as fallbacks.
 */
export function planAttempts(
  targets: readonly ResolvedTarget[],
  strategy: "fallback" | "loadbalance",
  random: () => number,
): ResolvedTarget[] {
  if (strategy === "fallback" || targets.length < 2) return [...targets];
  const weights = targets.map((t) => t.weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let pick = random() * total;
  let chosen = targets.length - 1;
  for (let i = 0; i < weights.length; i++) {
    pick -= weights[i]!;
    if (pick < 0) {
      chosen = i;
      break;
    }
  }
  return [targets[chosen]!, ...targets.filter((_, i) => i !== chosen)];
}
