/**
 * What a Claude model takes, read from its id. Anthropic publishes no capability endpoint, so the id is
 * all a request mapper has; a renamed or custom id reads as an older model (the conservative choice:
 * an older model's request shape is the one every model took until it changed).
 */

/** `claude-opus-4-8` → opus 4.8, `claude-sonnet-4-5-20250929` → 4.5, `claude-opus-4-20250514` → 4.0. */
const FAMILY_FIRST = /claude-(opus|sonnet|haiku|fable|mythos)-(?:(\d{1,2})(?:-(\d{1,2}))?(?!\d))?/;

interface ClaudeVersion {
  family: string;
  /** Undefined for ids without a number (`claude-mythos-preview`). */
  major?: number;
  minor: number;
}

/** Claude 3 named the version first: `claude-3-7-sonnet-20250219` → sonnet 3.7, `claude-3-opus-latest` → 3.0. */
const VERSION_FIRST = /claude-(\d)-(?:(\d)-)?(opus|sonnet|haiku)/;

function versionOf(model: string): ClaudeVersion | undefined {
  const m = FAMILY_FIRST.exec(model);
  if (m?.[1]) {
    if (m[2] === undefined) return { family: m[1], minor: 0 };
    return { family: m[1], major: Number(m[2]), minor: m[3] === undefined ? 0 : Number(m[3]) };
  }
  const old = VERSION_FIRST.exec(model);
  if (!old?.[3]) return undefined;
  return { family: old[3], major: Number(old[1]), minor: old[2] === undefined ? 0 : Number(old[2]) };
}

/** Fable and Mythos came after 4.x and are all of the newest generation. */
const isNewFamily = (v: ClaudeVersion) => v.family === "fable" || v.family === "mythos";

const atLeast = (v: ClaudeVersion, major: number, minor: number) =>
  v.major !== undefined && (v.major > major || (v.major === major && v.minor >= minor));

/**
 * Whether a Claude model thinks adaptively (`thinking: { type: "adaptive" }` with
 * `output_config.effort`) rather than within a manual `budget_tokens`. Claude 4.6 models take both and
 * deprecate the budget; Opus 4.7 and later refuse a budget with 400; 4.5 and earlier (and the older
 * `claude-3-7-sonnet` naming) refuse adaptive. Fable and Mythos models are all adaptive-only.
 */
export function thinksAdaptively(model: string): boolean {
  const v = versionOf(model);
  return v !== undefined && (isNewFamily(v) || atLeast(v, 4, 6));
}

/**
 * Whether a Claude model has dropped the sampling parameters: Opus 4.7 and later, every 5.x model,
 * Fable and Mythos answer a `temperature`, `top_p` or `top_k` other than the default with 400
 * ("`temperature` is deprecated for this model"), per Anthropic's migration guide for Opus 4.7.
 */
export function refusesSampling(model: string): boolean {
  const v = versionOf(model);
  return v !== undefined && (isNewFamily(v) || atLeast(v, 5, 0) || (v.family === "opus" && atLeast(v, 4, 7)));
}

/**
 * Whether a Claude model takes `temperature` or `top_p` but not both: from Opus 4.1 on, Anthropic answers
 * both with 400 ("`temperature` and `top_p` cannot both be specified for this model").
 */
export function takesOneSampler(model: string): boolean {
  const v = versionOf(model);
  return v !== undefined && (isNewFamily(v) || atLeast(v, 4, 1));
}

/**
 * Whether a Claude model refuses to continue a final assistant message (a "prefill"), answering a
 * conversation that ends with one with 400 ("This model does not support assistant message prefill.
 * The conversation must end with a user message."): Opus 4.6 and every later model. Sonnet 4.6 is left
 * out: LiteLLM's model table lists it as continuing one, and a refusal that is wrong would break a
 * working request, where a prefill passed on that is wrong only gets Anthropic's own 400.
 */
export function refusesPrefill(model: string): boolean {
  const v = versionOf(model);
  return v !== undefined && (isNewFamily(v) || atLeast(v, 4, 7) || (v.family === "opus" && atLeast(v, 4, 6)));
}

/**
 * Whether an adaptive model takes `output_config.effort: "xhigh"`. Anthropic's effort docs list xhigh
 * from Opus 4.7 on (Opus 4.7 and 4.8, the 5.x models, Fable and Mythos 5); Opus 4.6, Sonnet 4.6 and
 * Mythos Preview go from `high` straight to `max`.
 */
export function takesXhighEffort(model: string): boolean {
  const v = versionOf(model);
  if (v === undefined || (v.family === "mythos" && v.major === undefined)) return false;
  return isNewFamily(v) || atLeast(v, 4, 7);
}

/**
 * The most a Claude model writes in one answer (`max_tokens`, thinking included), per Anthropic's
 * models overview and model pages: Claude 4.6 and every later model (the 5.x models, Fable and
 * Mythos) 128 000; Opus 4 and 4.1 32 000; the other 4.x models (Sonnet 4 and 4.5, Haiku 4.5,
 * Opus 4.5) and Sonnet 3.7 64 000; the 3.5 models 8 192; Claude 3 4 096. Anthropic answers a larger
 * `max_tokens` with 400. Undefined for an id the gateway cannot read: its cap is unknown.
 */
export function maxOutputTokens(model: string): number | undefined {
  const v = versionOf(model);
  if (v === undefined) return undefined;
  if (isNewFamily(v) || atLeast(v, 4, 6)) return 128_000;
  if (v.major === undefined) return undefined;
  if (v.family === "opus" && v.major === 4 && v.minor <= 1) return 32_000;
  if (atLeast(v, 3, 7)) return 64_000;
  if (atLeast(v, 3, 5)) return 8_192;
  return 4_096;
}
