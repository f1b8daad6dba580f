import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CONFIG_PRICE_VERSION,
  costUsd,
  embeddingCostUsd,
  PRICE_VERSION,
  type Price,
  priceFor,
  priceTableSchema,
  priceVersionOf,
  roundUsd,
  type TokenUsage,
  tierFor,
} from "../../../core/budgets/pricing.ts";
import type { PriceConfig, ProviderKind } from "../../../core/config/types.ts";

const readJson = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const rawTable = readJson("../../../core/budgets/prices.json");

describe("the shipped price table", () => {
  it("validates: a dated version, a source, and only non-negative prices keyed by kind/model", () => {
    const parsed = priceTableSchema.safeParse(rawTable);
    expect(parsed.error).toBeUndefined();
    for (const price of Object.values(parsed.data?.models ?? {})) {
      const { longContext, priority, flex, ...base } = price;
      for (const value of [base, longContext, priority, flex].flatMap((tier) => Object.values(tier ?? {})))
        expect(value).toBeGreaterThanOrEqual(0);
    }
  });

  it("is the version every usage record carries", () => {
    expect(PRICE_VERSION).toBe((rawTable as { version: string }).version);
    expect(PRICE_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}-\d+$/);
  });

  it("says in its source where the numbers come from and that the mock's prices are fictional", () => {
    const { source } = rawTable as { source: string };
    expect(source).toMatch(/LiteLLM/);
    expect(source).toMatch(/mock\/echo prices are FICTIONAL/);
  });

  it.each([
    ["a negative price", { inputPerMTok: -1, outputPerMTok: 1 }],
    ["a missing output price", { inputPerMTok: 1 }],
    ["an unknown field", { inputPerMTok: 1, outputPerMTok: 1, perImage: 1 }],
    ["a price that is not a number", { inputPerMTok: "1", outputPerMTok: 1 }],
  ])("rejects a table with %s", (_, price) => {
    const table = { version: "2026-11-26-1", source: "test", models: { "openai/x": price } };
    expect(priceTableSchema.safeParse(table).success).toBe(false);
  });

  it.each([
    ["no version", { source: "s", models: {} }],
    ["an undated version", { version: "v1", source: "s", models: {} }],
    ["a key without a provider kind", { version: "2026-11-26-1", source: "s", models: { "gpt-4o": {} } }],
  ])("rejects a table with %s", (_, table) => {
    expect(priceTableSchema.safeParse(table).success).toBe(false);
  });

  it("prices every provider model the example config ships aliases for", () => {
    const config = readJson("../../../config/example.json") as {
      providers: { kind: ProviderKind; models: string[] }[];
    };
    const unpriced = config.providers.flatMap((p) =>
      p.models.filter((m) => priceFor(p.kind, m) === undefined).map((m) => `${p.kind}/${m}`),
    );
    expect(unpriced).toEqual([]);
  });
});

describe("priceFor", () => {
  it.each<[ProviderKind, string, Price]>([
    [
      "openai",
      "gpt-4o",
      {
        inputPerMTok: 2.5,
        outputPerMTok: 10,
        cachedInputPerMTok: 1.25,
        priority: { inputPerMTok: 4.25, outputPerMTok: 17, cachedInputPerMTok: 2.125 },
      },
    ],
    [
      "openai",
      "gpt-4o-mini",
      {
        inputPerMTok: 0.15,
        outputPerMTok: 0.6,
        cachedInputPerMTok: 0.075,
        priority: { inputPerMTok: 0.25, outputPerMTok: 1, cachedInputPerMTok: 0.125 },
      },
    ],
    ["openai", "text-embedding-3-small", { inputPerMTok: 0.02, outputPerMTok: 0, embeddingPerMTok: 0.02 }],
    [
      "anthropic",
      "claude-haiku-4-5",
      {
        inputPerMTok: 1,
        outputPerMTok: 5,
        cachedInputPerMTok: 0.1,
        cacheWritePerMTok: 1.25,
        cacheWrite1hPerMTok: 2,
      },
    ],
    [
      "gemini",
      "gemini-2.5-flash",
      {
        inputPerMTok: 0.3,
        outputPerMTok: 2.5,
        cachedInputPerMTok: 0.03,
        audioInputPerMTok: 1,
        reasoningPerMTok: 2.5,
      },
    ],
    ["gemini", "gemini-embedding-001", { inputPerMTok: 0.15, outputPerMTok: 0, embeddingPerMTok: 0.15 }],
    [
      "openai",
      "gpt-5-mini",
      {
        inputPerMTok: 0.25,
        outputPerMTok: 2,
        cachedInputPerMTok: 0.025,
        priority: { inputPerMTok: 0.45, outputPerMTok: 3.6, cachedInputPerMTok: 0.045 },
        flex: { inputPerMTok: 0.125, outputPerMTok: 1, cachedInputPerMTok: 0.0125 },
      },
    ],
    [
      "gemini",
      "gemini-3-pro-preview",
      {
        inputPerMTok: 2,
        outputPerMTok: 12,
        cachedInputPerMTok: 0.2,
        longContext: {
          aboveInputTokens: 200_000,
          inputPerMTok: 4,
          outputPerMTok: 18,
          cachedInputPerMTok: 0.4,
        },
      },
    ],
    [
      "anthropic",
      "claude-opus-4-8",
      {
        inputPerMTok: 5,
        outputPerMTok: 25,
        cachedInputPerMTok: 0.5,
        cacheWritePerMTok: 6.25,
        cacheWrite1hPerMTok: 10,
      },
    ],
    [
      "anthropic",
      "claude-fable-5",
      {
        inputPerMTok: 10,
        outputPerMTok: 50,
        cachedInputPerMTok: 1,
        cacheWritePerMTok: 12.5,
        cacheWrite1hPerMTok: 20,
      },
    ],
    [
      "openai",
      "gpt-5.4-nano",
      {
        inputPerMTok: 0.2,
        outputPerMTok: 1.25,
        cachedInputPerMTok: 0.02,
        flex: { inputPerMTok: 0.1, outputPerMTok: 0.625, cachedInputPerMTok: 0.01 },
      },
    ],
    [
      "gemini",
      "gemini-3.5-flash",
      {
        inputPerMTok: 1.5,
        outputPerMTok: 9,
        cachedInputPerMTok: 0.15,
        audioInputPerMTok: 1,
        reasoningPerMTok: 9,
      },
    ],
    ["mock", "echo", { inputPerMTok: 1, outputPerMTok: 2, embeddingPerMTok: 0.1 }],
  ])("finds %s/%s in the table", (kind, model, price) => {
    expect(priceFor(kind, model)).toEqual(price);
  });

  it.each<[string, ProviderKind, string, string]>([
    ["an OpenAI dated snapshot", "openai", "gpt-4o-2024-08-06", "gpt-4o"],
    ["an OpenAI mini snapshot", "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["an Anthropic dated snapshot", "anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"],
    ["an o-series snapshot", "openai", "o4-mini-2025-04-16", "o4-mini"],
  ])("prices %s as its undated model", (_, kind, dated, undated) => {
    expect(priceFor(kind, dated)).toBeDefined();
    expect(priceFor(kind, dated)).toEqual(priceFor(kind, undated));
  });

  it("prices a snapshot that costs more than its alias at its own price, not the alias's", () => {
    expect(priceFor("openai", "gpt-4o-2024-05-13")).toEqual({
      inputPerMTok: 5,
      outputPerMTok: 15,
      priority: { inputPerMTok: 8.75, outputPerMTok: 26.25 },
    });
  });

  it.each<[string, ProviderKind, string]>([
    ["an unknown model", "openai", "gpt-9"],
    ["an unknown model with a date suffix", "openai", "gpt-9-2030-01-01"],
    ["a known model under another provider kind", "anthropic", "gpt-4o"],
    ["a model name that is only a date", "openai", "2024-08-06"],
    ["an inherited object property", "openai", "constructor"],
    ["a prototype key", "openai", "__proto__"],
  ])("returns undefined for %s (never a silent $0)", (_, kind, model) => {
    expect(priceFor(kind, model)).toBeUndefined();
  });

  const negotiated: PriceConfig = { inputPerMTok: 2, outputPerMTok: 8 };

  it.each<[string, Record<string, PriceConfig>, string, Price | undefined]>([
    ["an override wins over the table", { "gpt-4o": negotiated }, "gpt-4o", negotiated],
    [
      "an override of the alias prices its dated snapshot",
      { "gpt-4o": negotiated },
      "gpt-4o-2024-08-06",
      negotiated,
    ],
    [
      "an override of the alias also wins over a snapshot's own table price",
      { "gpt-4o": negotiated },
      "gpt-4o-2024-05-13",
      negotiated,
    ],
    [
      "an exact override wins over an alias override",
      { "gpt-4o": negotiated, "gpt-4o-2024-08-06": { inputPerMTok: 1, outputPerMTok: 1 } },
      "gpt-4o-2024-08-06",
      { inputPerMTok: 1, outputPerMTok: 1 },
    ],
    [
      "an override for another model leaves the table price",
      { "gpt-4.1": negotiated },
      "gpt-4o",
      priceFor("openai", "gpt-4o"),
    ],
    [
      "an override prices a model the table lacks",
      { "ft:gpt-4o:acme": negotiated },
      "ft:gpt-4o:acme",
      negotiated,
    ],
    [
      "an override of $0 is taken as given, not as missing",
      { "gpt-4o": { inputPerMTok: 0, outputPerMTok: 0 } },
      "gpt-4o",
      { inputPerMTok: 0, outputPerMTok: 0 },
    ],
  ])("%s", (_, overrides, model, expected) => {
    expect(priceFor("openai", model, overrides)).toEqual(expected);
  });
});

describe("priceVersionOf", () => {
  it("is the table's version for a table price", () => {
    expect(priceVersionOf(priceFor("openai", "gpt-4o-2024-08-06")!)).toBe(PRICE_VERSION);
  });

  it.each([
    ["an override of a model the table also prices", "gpt-4o"],
    ["an override of a model the table lacks", "ft:gpt-4o:acme"],
  ])("is `config` for %s", (_, model) => {
    const overrides = { [model]: { inputPerMTok: 2, outputPerMTok: 8 } };
    expect(priceVersionOf(priceFor("openai", model, overrides)!)).toBe(CONFIG_PRICE_VERSION);
    expect(CONFIG_PRICE_VERSION).toBe("config");
  });

  it("is `config` even for an override equal to the table's price", () => {
    const same = { ...priceFor("openai", "gpt-4o")! };
    expect(priceVersionOf(priceFor("openai", "gpt-4o", { "gpt-4o": same })!)).toBe("config");
  });
});

describe("costUsd", () => {
  const price: Price = { inputPerMTok: 2, outputPerMTok: 10, cachedInputPerMTok: 0.5, reasoningPerMTok: 20 };
  const flat: Price = { inputPerMTok: 2, outputPerMTok: 10 };
  const writes: Price = {
    inputPerMTok: 3,
    outputPerMTok: 15,
    cachedInputPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    cacheWrite1hPerMTok: 6,
  };
  const long: Price = {
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cachedInputPerMTok: 0.125,
    longContext: {
      aboveInputTokens: 200_000,
      inputPerMTok: 2.5,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.25,
    },
  };

  it.each<[string, Price, TokenUsage, number]>([
    [
      "prices input and output at their per-1M prices",
      flat,
      { input: 1e6, output: 1e6, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      12,
    ],
    [
      "bills cached tokens, part of the input, at the cached price",
      price,
      { input: 1000, output: 0, cached: 400, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0.0014,
    ],
    [
      "bills audio tokens, part of the input, at the audio price",
      { ...flat, audioInputPerMTok: 7 },
      { input: 1000, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0, audio: 600 },
      0.005,
    ],
    [
      "bills audio tokens at the input price when the model has no audio price",
      flat,
      { input: 1000, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0, audio: 600 },
      0.002,
    ],
    [
      "takes audio as the uncached part first, and never more of it than there is",
      { ...price, audioInputPerMTok: 7 },
      { input: 1000, output: 0, cached: 400, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0, audio: 900 },
      0.0044,
    ],
    [
      "bills cached tokens at the input price when the model has no cached price",
      flat,
      { input: 1000, output: 0, cached: 400, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0.002,
    ],
    [
      "bills reasoning tokens, part of the output, at the reasoning price",
      price,
      { input: 0, output: 1000, cached: 0, reasoning: 300, cacheWrite: 0, cacheWrite1h: 0 },
      0.013,
    ],
    [
      "bills reasoning tokens at the output price when the model has no reasoning price",
      flat,
      { input: 0, output: 1000, cached: 0, reasoning: 300, cacheWrite: 0, cacheWrite1h: 0 },
      0.01,
    ],
    [
      "bills a fully cached prompt wholly at the cached price",
      price,
      { input: 500, output: 0, cached: 500, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0.00025,
    ],
    [
      "never bills a negative rest when a provider reports more cached than prompt tokens",
      price,
      { input: 100, output: 0, cached: 200, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0.0001,
    ],
    [
      "bills cache writes, part of the input, at the cache-write price and their 1-hour part above it",
      writes,
      { input: 1000, output: 0, cached: 100, reasoning: 0, cacheWrite: 600, cacheWrite1h: 200 },
      // 300 uncached × 3 + 100 read × 0.3 + 400 written × 3.75 + 200 written for 1 h × 6, per 1M.
      0.00363,
    ],
    [
      "bills cache writes at the input price when the model has no cache-write price",
      flat,
      { input: 1000, output: 0, cached: 0, reasoning: 0, cacheWrite: 600, cacheWrite1h: 200 },
      0.002,
    ],
    [
      "bills 1-hour writes at the cache-write price when the model has no 1-hour price",
      { inputPerMTok: 2, outputPerMTok: 10, cacheWritePerMTok: 5 },
      { input: 1000, output: 0, cached: 0, reasoning: 0, cacheWrite: 1000, cacheWrite1h: 400 },
      0.005,
    ],
    [
      "never bills a negative rest when reads and writes exceed the prompt",
      writes,
      { input: 100, output: 0, cached: 100, reasoning: 0, cacheWrite: 100, cacheWrite1h: 0 },
      0.000405,
    ],
    [
      "bills a prompt at the long-context threshold at the base prices",
      long,
      { input: 200_000, output: 1000, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0.26,
    ],
    [
      "bills the whole request, output included, at long-context prices once the prompt passes the threshold",
      long,
      { input: 200_001, output: 1000, cached: 1, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      // 200 000 uncached × 2.5 + 1 cached × 0.25 + 1 000 output × 15, per 1M.
      0.51500025,
    ],
    [
      "falls back within the long-context tier for prices it does not list",
      {
        inputPerMTok: 1,
        outputPerMTok: 2,
        longContext: { aboveInputTokens: 10, inputPerMTok: 4, outputPerMTok: 8 },
      },
      { input: 100, output: 100, cached: 50, reasoning: 50, cacheWrite: 20, cacheWrite1h: 10 },
      // Every input token at 4 and every output token at 8: no base-tier price leaks in.
      0.0012,
    ],
    [
      "costs nothing for no tokens",
      price,
      { input: 0, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
      0,
    ],
  ])("%s", (_, p, tokens, usd) => {
    expect(costUsd(p, tokens)).toBe(usd);
  });

  it("rounds to a nano-dollar, so float dust never shows", () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004; priced tokens must not carry that.
    const dusty: Price = { inputPerMTok: 0.1, outputPerMTok: 0.2 };
    expect(
      costUsd(dusty, { input: 1e6, output: 1e6, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 }),
    ).toBe(0.3);
    expect(
      costUsd(dusty, { input: 7, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 }),
    ).toBe(7e-7);
    expect(roundUsd(1.2345678915)).toBe(1.234567892);
  });

  it("prices a Claude Sonnet 4.5 call that writes the cache as Anthropic bills it", () => {
    const sonnet = priceFor("anthropic", "claude-sonnet-4-5-20250929")!;
    // 100 uncached × $3 + 2 000 read × $0.30 + 1 500 written for 5 min × $3.75 + 500 for 1 h × $6
    // + 400 output × $15, per 1M.
    const tokens = {
      input: 4100,
      output: 400,
      cached: 2000,
      reasoning: 0,
      cacheWrite: 2000,
      cacheWrite1h: 500,
    };
    expect(costUsd(sonnet, tokens)).toBe(0.015525);
  });

  it("prices a Gemini 2.5 Pro call with a prompt over 200k tokens at the long-context tier", () => {
    const pro = priceFor("gemini", "gemini-2.5-pro")!;
    // The whole request at the >200k prices: 250 000 input × $2.50 + 1 000 output × $15, per 1M.
    const tokens = { input: 250_000, output: 1000, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
    expect(costUsd(pro, tokens)).toBe(0.64);
    expect(tierFor(pro, 200_000).input).toBe(1.25);
  });

  it("prices a GPT-5.6 call that writes OpenAI's cache, and one over 272k tokens at the long-context tier", () => {
    const gpt56 = priceFor("openai", "gpt-5.6")!;
    // 1 000 uncached × $5 + 3 000 written × $6.25 + 500 output × $30, per 1M.
    const tokens = { input: 4000, output: 500, cached: 0, reasoning: 0, cacheWrite: 3000, cacheWrite1h: 0 };
    expect(costUsd(gpt56, tokens)).toBe(0.03875);
    // The whole request at the >272k prices: 300 000 input × $10 + 1 000 output × $45, per 1M.
    const long = { input: 300_000, output: 1000, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
    expect(costUsd(gpt56, long)).toBe(3.045);
    expect(tierFor(gpt56, 272_000).input).toBe(5);
  });

  it.each<[string | undefined, number]>([
    ["priority", (1000 * 5 + 500 * 30) / 1e6],
    ["default", (1000 * 2.5 + 500 * 15) / 1e6],
    ["flex", (1000 * 1.25 + 500 * 7.5) / 1e6],
    [undefined, (1000 * 2.5 + 500 * 15) / 1e6],
  ])("prices a GPT-5.4 call OpenAI says it served at the %s tier", (tier, expected) => {
    const gpt54 = priceFor("openai", "gpt-5.4")!;
    const tokens = { input: 1000, output: 500, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
    expect(costUsd(gpt54, tokens, tier)).toBeCloseTo(expected, 12);
  });

  it("counts a flex prompt past the long-context threshold at the standard long-context prices", () => {
    const gpt54 = priceFor("openai", "gpt-5.4")!;
    const tokens = { input: 300_000, output: 1000, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
    expect(costUsd(gpt54, tokens, "flex")).toBe(costUsd(gpt54, tokens));
  });

  it("counts a priority answer at the standard prices for a model the table has no priority prices for", () => {
    const nano = priceFor("openai", "gpt-5.4-nano")!;
    const tokens = { input: 1000, output: 500, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
    expect(costUsd(nano, tokens, "priority")).toBe(costUsd(nano, tokens));
  });

  it("prices a gpt-4o call with a cache hit as OpenAI bills it", () => {
    const gpt4o = priceFor("openai", "gpt-4o")!;
    // 800 uncached × $2.50 + 200 cached × $1.25 + 500 output × $10, per 1M.
    expect(
      costUsd(gpt4o, { input: 1000, output: 500, cached: 200, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 }),
    ).toBe(0.00725);
  });
});

describe("embeddingCostUsd", () => {
  it.each<[string, Price, number, number]>([
    ["uses the embedding price", { inputPerMTok: 9, outputPerMTok: 0, embeddingPerMTok: 0.02 }, 1e6, 0.02],
    ["falls back to the input price", { inputPerMTok: 0.13, outputPerMTok: 0 }, 1e6, 0.13],
    ["prices the mock's fictional embedding tokens", priceFor("mock", "echo")!, 10_000, 0.001],
    ["costs nothing for no tokens", { inputPerMTok: 1, outputPerMTok: 0 }, 0, 0],
  ])("%s", (_, price, tokens, usd) => {
    expect(embeddingCostUsd(price, tokens)).toBe(usd);
  });
});
