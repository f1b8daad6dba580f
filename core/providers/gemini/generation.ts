const GENERATION = /^gemini-(\d+)/;

/** The major generation a Gemini model id names (`gemini-2.5-flash` → 2), or undefined (`gemini-flash-latest`). */
export const geminiGeneration = (model: string): number | undefined => {
  const m = GENERATION.exec(model);
  return m ? Number(m[1]) : undefined;
};

/**
 * Gemini 2.5 thinks within a token budget and refuses Gemini 3's `thinkingLevel` (400), so there an
 * effort becomes a budget: the figures Google's OpenAI-compatible endpoint uses for 2.5 (low 1 024,
 * medium 8 192, high 24 576), for `minimal` 512, the smallest budget every 2.5 model accepts
 * (Flash-Lite's floor), and for `none` 0, which switches thinking off on Flash and Flash-Lite (2.5 Pro
 * cannot: refused before mapping, see effortRefusal). `xhigh` and `max` get high's 24 576, the
 * largest budget every 2.5 model accepts (Flash's ceiling). Gemini 3 and later, and model ids that name
 * no generation, take a level; they have no `none`, and nothing above HIGH.
 */
const THINKING_BUDGET = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
  max: 24576,
} as const;

export type ReasoningEffort = keyof typeof THINKING_BUDGET;

/** Gemini 3's levels, least thinking first. */
const LEVELS = ["MINIMAL", "LOW", "MEDIUM", "HIGH"] as const;
type Level = (typeof LEVELS)[number];

const THINKING_LEVEL: Record<Exclude<ReasoningEffort, "none">, Level> = {
  minimal: "MINIMAL",
  low: "LOW",
  medium: "MEDIUM",
  high: "HIGH",
  xhigh: "HIGH",
  max: "HIGH",
};

const PRO = /^gemini-(\d+)(?:\.(\d+))?-pro/;

/**
 * The levels a model takes; another is Google's 400. Per Google's thinking docs, Pro models have no
 * MINIMAL, and Gemini 3 Pro has no MEDIUM either (3.1 Pro added it). Other models take all four.
 */
function levelsOf(model: string): readonly Level[] {
  const pro = PRO.exec(model);
  if (!pro) return LEVELS;
  const firstPro = pro[1] === "3" && (pro[2] === undefined || pro[2] === "0");
  return firstPro ? ["LOW", "HIGH"] : ["LOW", "MEDIUM", "HIGH"];
}

/**
 * The level an effort asks of `model`: its own, or the next higher one the model takes (MEDIUM is HIGH
 * on Gemini 3 Pro, MINIMAL is LOW on Pro models). An effort says how hard to think, and a model that
 * lacks that level thinks at least as hard rather than refusing the request.
 */
function levelFor(effort: Exclude<ReasoningEffort, "none">, model: string): Level {
  const wanted = THINKING_LEVEL[effort];
  const taken = levelsOf(model);
  return LEVELS.slice(LEVELS.indexOf(wanted)).find((l) => taken.includes(l)) ?? "HIGH";
}

const VERSION = /^gemini-(\d+)(?:\.(\d+))?/;

/**
 * How `model` is told how hard to think. Google's thinking docs ("Gemini thinking"): Gemini 3 and later
 * take `thinkingLevel`, Gemini 2.5 a `thinkingBudget`, and earlier models do not think: Gemini 2.0 and
 * 1.5 answer any `thinkingConfig` with 400 ("Thinking is not enabled for models/gemini-2.0-flash"). An
 * id that names no version (`gemini-flash-latest`) points at a current model, which takes a level.
 */
export type ThinkingControl = "level" | "budget" | "none";

export function thinkingControl(model: string): ThinkingControl {
  const version = VERSION.exec(model);
  if (!version) return "level";
  const [major, minor] = [Number(version[1]), Number(version[2] ?? 0)];
  if (major >= 3) return "level";
  return major === 2 && minor >= 5 ? "budget" : "none";
}

/**
 * Gemini 2.5 Pro cannot switch thinking off: its budget is 128 to 32 768, and 0 is Google's 400 ("Budget
 * 0 is invalid. This model only works in thinking mode."), as per Google's thinking docs.
 */
const alwaysThinks = (model: string): boolean =>
  thinkingControl(model) === "level" || /^gemini-2\.5-pro/.test(model);

/**
 * Why `model` cannot honour `effort`, or undefined when it can. Refused before the call (400
 * `unsupported_parameter`), so an alias falls back to a target that takes it: a model that always
 * thinks has no `none`, and one that does not think has nothing but `none` (which needs no mapping).
 */
export function effortRefusal(effort: ReasoningEffort, model: string): string | undefined {
  if (effort === "none")
    return alwaysThinks(model) ? `${model} cannot switch thinking off; 'minimal' is its least` : undefined;
  if (thinkingControl(model) === "none")
    return `${model} does not think (Gemini 2.5 and later do); only 'none' applies`;
  return undefined;
}

/**
 * The thinkingConfig for an effort, or undefined when there is nothing to send (`none` to a model that
 * does not think). The caller refuses what effortRefusal names first. Gemini counts thinking against
 * `maxOutputTokens`, so with the caller's output limit a budget shrinks under it (leaving a token for
 * the answer), as Anthropic's does, though never below `minimal`'s 512, the smallest budget every 2.5
 * model takes: a budget past the limit could spend it all on thinking and answer nothing.
 */
export function thinkingConfig(
  effort: ReasoningEffort,
  model: string,
  limit?: number | null,
): Record<string, unknown> | undefined {
  const control = thinkingControl(model);
  if (control === "none") return undefined;
  if (control === "budget") {
    const budget = THINKING_BUDGET[effort];
    if (limit == null || budget === 0) return { thinkingBudget: budget };
    return { thinkingBudget: Math.max(THINKING_BUDGET.minimal, Math.min(budget, limit - 1)) };
  }
  if (effort === "none") throw new Error("a thinking-level model has no 'none'; refuse it before mapping");
  return { thinkingLevel: levelFor(effort, model) };
}

/**
 * Whether a model takes `presencePenalty` and `frequencyPenalty`. Gemini 2.0 does; Gemini 2.5 and later
 * answer any penalty but 0 with 400 ("Penalty is not enabled for this model"), as did Gemini 1.5 before
 * its `-002` builds.
 */
export const takesPenalties = (model: string): boolean => /^gemini-(2\.0-|1\.5-.*-002)/.test(model);
