import { z } from "zod";

/**
 * Price entries: the shipped table's (core/budgets/prices.json) and a provider's `prices` overrides
 * share this one shape, in USD per 1 million tokens.
 */

const perMTok = () => z.number().finite().min(0);

/**
 * The prices of one of OpenAI's processing tiers other than the standard one. Priority runs only for
 * prompts up to 128k tokens (longer ones run, and are billed, at the standard tier); a flex prompt past
 * the model's long-context threshold is counted at the standard long-context prices, above its bill.
 */
export const tierPriceSchema = z
  .object({
    inputPerMTok: perMTok(),
    outputPerMTok: perMTok(),
    cachedInputPerMTok: perMTok().optional().describe("Default: this tier's input price"),
    cacheWritePerMTok: perMTok().optional().describe("Default: this tier's input price"),
  })
  .strict();

/**
 * The prices that depend on the prompt's size: a provider bills the whole request (input, cache and
 * output) at its long-context prices once the prompt passes a threshold (Gemini 2.5 Pro, Claude Sonnet
 * 4.5: more than 200k input tokens, cache reads and writes included). A missing price falls back within
 * this tier as it does in the base tier.
 */
export const longContextPriceSchema = tierPriceSchema.extend({
  aboveInputTokens: z
    .number()
    .int()
    .positive()
    .describe("Prompts of more input tokens than this bill at these prices"),
  cacheWrite1hPerMTok: perMTok().optional().describe("Default: this tier's cache-write price"),
  reasoningPerMTok: perMTok().optional().describe("Default: this tier's output price"),
  audioInputPerMTok: perMTok().optional().describe("Default: this tier's input price"),
});

/**
 * USD per 1 million tokens for one provider model: the shipped price table's entries and a provider's
 * `prices` overrides have this one shape.
 */
export const priceSchema = z
  .object({
    inputPerMTok: perMTok(),
    outputPerMTok: perMTok(),
    cachedInputPerMTok: perMTok().optional().describe("Cache reads. Default: the input price"),
    cacheWritePerMTok: perMTok()
      .optional()
      .describe("Cache writes (Anthropic's 5-minute cache). Default: the input price"),
    cacheWrite1hPerMTok: perMTok()
      .optional()
      .describe("Cache writes with Anthropic's 1-hour TTL. Default: the cache-write price"),
    reasoningPerMTok: perMTok().optional().describe("Default: the output price"),
    audioInputPerMTok: perMTok()
      .optional()
      .describe(
        "Audio input not read from a cache (Gemini's Flash models bill it higher). Default: the input price",
      ),
    embeddingPerMTok: perMTok().optional().describe("Embedding models. Default: the input price"),
    longContext: longContextPriceSchema.optional(),
    priority: tierPriceSchema
      .optional()
      .describe(
        'OpenAI\'s priority processing (`service_tier: "priority"`). Without it, priority is not priced',
      ),
    flex: tierPriceSchema
      .optional()
      .describe(
        'OpenAI\'s flex processing (`service_tier: "flex"`). Without it, flex counts at the standard prices',
      ),
  })
  .strict();
