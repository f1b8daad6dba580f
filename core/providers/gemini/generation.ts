const GENERATION = /^gemini-(\d+)/;

/** The major generation a Gemini model id names (`gemini-2.5-flash` → 2), or undefined (`gemini-flash-latest`). */
export const geminiGeneration = (model: string): number | undefined => {
  const m = GENERATION.exec(model);
  return m ? Number(m[1]) : undefined;
};

/**
 * Gemini 2.x thinks within a token budget and refuses Gemini 3's `thinkingLevel` (400), so there an
 * effort becomes a budget: the figures Google's OpenAI-compatible endpoint uses for 2.5 (low 1 024,
 * medium 8 192, high 24 576), for `minimal` 512, the smallest budget every 2.5 model accepts
 * (Flash-Lite's floor), and for `none` 0, which switches thinking off (2.5 Pro refuses it). `xhigh`
 * and `max` get high's 24 576, the largest budget every 2.5 model accepts (Flash's ceiling). Gemini 3
 * and later, and model ids that name no generation, take a level; they have no `none`, and nothing
 * above HIGH.
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

/** Whether `model` takes a thinking budget (Gemini 2.x) rather than a thinking level. */
export const thinksInBudget = (model: string): boolean => {
  const generation = geminiGeneration(model);
  return generation !== undefined && generation < 3;
};

/** The thinkingConfig for an effort; the caller refuses `none` for a model without budgets first. */
export function thinkingConfig(effort: ReasoningEffort, model: string): Record<string, unknown> {
  if (thinksInBudget(model)) return { thinkingBudget: THINKING_BUDGET[effort] };
  if (effort === "none") throw new Error("a thinking-level model has no 'none'; refuse it before mapping");
  return { thinkingLevel: levelFor(effort, model) };
}

/**
 * Whether a model takes `presencePenalty` and `frequencyPenalty`. Gemini 2.0 does; Gemini 2.5 and later
 * answer any penalty but 0 with 400 ("Penalty is not enabled for this model"), as did Gemini 1.5 before
 * its `-002` builds.
 */
export const takesPenalties = (model: string): boolean => /^gemini-(2\.0-|1\.5-.*-002)/.test(model);
