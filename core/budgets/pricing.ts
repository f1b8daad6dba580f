import { z } from "zod";
import { priceSchema } from "../config/price-schema.ts";
import type { PriceConfig, ProviderKind } from "../config/types.ts";
import table from "./prices.json" with { type: "json" };

/**
 * Pricing is data: `prices.json` is a versioned table of USD prices per 1M tokens, keyed by
 * `<provider kind>/<provider model>` (source and licence notice in PRICES-NOTICE.md). A provider's
 * `prices` config overrides it per model. Nothing here guesses: a model without a price gets
 * `undefined`, and the caller refuses it for an org with a budget rather than pricing it at $0.
 */

export const priceTableSchema = z
  .object({
    version: z.string().regex(/^\d{4}-\d{2}-\d{2}-\d+$/, "must be <YYYY-MM-DD>-<n>"),
    source: z.string().min(1),
    models: z.record(z.string().regex(/^(openai|anthropic|gemini|mock)\/.+$/), priceSchema),
  })
  .strict();

/** USD per 1M tokens for one provider model. */
export type Price = PriceConfig;
export type PriceTable = z.infer<typeof priceTableSchema>;

const shipped: PriceTable = priceTableSchema.parse(table);

/** The version of the shipped table; every usage record carries the version it was priced with. */
export const PRICE_VERSION: string = shipped.version;

/** What a usage record priced by a provider's `prices` override carries instead of a table version. */
export const CONFIG_PRICE_VERSION = "config";

const shippedPrices = new WeakSet<Price>(Object.values(shipped.models));

/** The price version a cost computed with `price` (as priceFor returned it) carries. */
export const priceVersionOf = (price: Price): string =>
  shippedPrices.has(price) ? PRICE_VERSION : CONFIG_PRICE_VERSION;

/** `gpt-4o-2024-08-06` → `gpt-4o` (OpenAI), `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5` (Anthropic). */
const DATE_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

function names(providerModel: string): string[] {
  const undated = providerModel.replace(DATE_SUFFIX, "");
  return undated === providerModel || undated === "" ? [providerModel] : [providerModel, undated];
}

/**
 * The price of a provider model: the provider's config override first (`providers[].prices[model]`),
 * then the shipped table; each tried with the exact name, then with a trailing date suffix removed,
 * since providers report dated snapshot names. A dated snapshot priced differently from its alias has
 * its own table entry (e.g. `gpt-4o-2024-05-13`), which the exact name finds first. `undefined` when
 * nothing matches: never a silent $0.
 */
export function priceFor(
  kind: ProviderKind,
  providerModel: string,
  overrides?: Record<string, PriceConfig>,
): Price | undefined {
  const candidates = names(providerModel);
  if (overrides) {
    for (const name of candidates) {
      if (Object.hasOwn(overrides, name)) return overrides[name];
    }
  }
  for (const name of candidates) {
    const key = `${kind}/${name}`;
    if (Object.hasOwn(shipped.models, key)) return shipped.models[key];
  }
  return undefined;
}

/** Token counts as the gateway reports them (core/api/chat-response.ts `usage`). */
export interface TokenUsage {
  /** `prompt_tokens`: the whole prompt, cache reads and writes included. */
  input: number;
  /** `completion_tokens`: the whole completion, reasoning tokens included. */
  output: number;
  /** `prompt_tokens_details.cached_tokens`: the part of `input` read from the provider's cache. */
  cached: number;
  /** `completion_tokens_details.reasoning_tokens`: the part of `output` spent reasoning. */
  reasoning: number;
  /** `prompt_tokens_details.cache_write_tokens`: the part of `input` written to the provider's cache. */
  cacheWrite: number;
  /** `prompt_tokens_details.cache_write_1h_tokens`: the part of `cacheWrite` cached for an hour. */
  cacheWrite1h: number;
  /** `prompt_tokens_details.audio_tokens`: the part of `input` that was audio (absent: none). */
  audio?: number | undefined;
}

/** One tier's prices with every default resolved (the defaults are documented on priceSchema). */
export interface TierPrices {
  input: number;
  output: number;
  cached: number;
  cacheWrite: number;
  cacheWrite1h: number;
  reasoning: number;
  audio: number;
}

type TierSource = Omit<Price, "longContext" | "embeddingPerMTok" | "priority" | "flex">;

const resolveTier = (p: TierSource): TierPrices => {
  const cacheWrite = p.cacheWritePerMTok ?? p.inputPerMTok;
  return {
    input: p.inputPerMTok,
    output: p.outputPerMTok,
    cached: p.cachedInputPerMTok ?? p.inputPerMTok,
    cacheWrite,
    cacheWrite1h: p.cacheWrite1hPerMTok ?? cacheWrite,
    reasoning: p.reasoningPerMTok ?? p.outputPerMTok,
    audio: p.audioInputPerMTok ?? p.inputPerMTok,
  };
};

/**
 * The prices a request with `inputTokens` of prompt is billed at: the long-context tier once the prompt
 * passes its threshold (the whole request, output included, as Google, Anthropic and OpenAI bill it);
 * OpenAI's priority or flex prices when OpenAI says it served the request at that tier (`service_tier`
 * in its response). An answer at a tier the model has no prices for is counted at the standard ones, as
 * is a flex prompt past the long-context threshold (OpenAI bills it below them).
 */
export function tierFor(price: Price, inputTokens: number, serviceTier?: string): TierPrices {
  if (serviceTier === "priority" && price.priority) return resolveTier(price.priority);
  const long = price.longContext;
  if (long && inputTokens > long.aboveInputTokens) return resolveTier(long);
  if (serviceTier === "flex" && price.flex) return resolveTier(price.flex);
  return resolveTier(price);
}

/** Rounds to 1e-9 USD (a nano-dollar) so sums of prices carry no float dust. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/**
 * The cost of a chat completion. `input` includes `cached` and `cacheWrite` (OpenAI's `prompt_tokens`
 * convention, which every adapter follows): cache reads are billed at the cached price, cache writes at
 * the cache-write price (their 1-hour part at the 1-hour price) and the rest at the input price, its
 * audio part at the audio price. Audio is taken to be the uncached part first (Gemini's
 * `cacheTokensDetails`, which says how much of the cache read was audio, is not read), and audio read
 * from a cache bills at the cached price, which the table has for text only. `output` includes `reasoning`: reasoning tokens are billed at the reasoning price and the rest at the
 * output price. A part larger than its whole (a provider reporting more cached than prompt tokens) is
 * billed as the part, never as a negative rest.
 */
export function costUsd(price: Price, tokens: TokenUsage, serviceTier?: string): number {
  return roundUsd(costAtTier(tierFor(price, tokens.input, serviceTier), tokens) / 1e6);
}

/** costUsd at the given tier's prices, in millionths of a dollar, unrounded. */
export function costAtTier(p: TierPrices, tokens: TokenUsage): number {
  const cached = Math.max(0, tokens.cached);
  const written = Math.max(0, tokens.cacheWrite);
  const written1h = Math.min(written, Math.max(0, tokens.cacheWrite1h));
  const reasoning = Math.max(0, tokens.reasoning);
  const uncached = Math.max(0, tokens.input - cached - written);
  const audio = Math.min(uncached, Math.max(0, tokens.audio ?? 0));
  const answer = Math.max(0, tokens.output - reasoning);
  return (
    (uncached - audio) * p.input +
    audio * p.audio +
    cached * p.cached +
    (written - written1h) * p.cacheWrite +
    written1h * p.cacheWrite1h +
    answer * p.output +
    reasoning * p.reasoning
  );
}

/** The cost of an embeddings request: its input tokens at the embedding price (default: input price). */
export function embeddingCostUsd(price: Price, tokens: number): number {
  return roundUsd((Math.max(0, tokens) * (price.embeddingPerMTok ?? price.inputPerMTok)) / 1e6);
}
