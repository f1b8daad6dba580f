import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest } from "../../../core/api/chat-request.ts";
import type { EmbeddingsRequest } from "../../../core/api/embeddings-request.ts";
import {
  DEFAULT_MAX_OUTPUT_TOKENS,
  IMAGE_TOKENS,
  imageTokenAllowance,
  worstCaseChatCost,
  worstCaseChatTokens,
  worstCaseEmbeddingCost,
  worstCaseEmbeddingTokens,
} from "../../../core/budgets/estimate.ts";
import { costUsd, type Price, priceFor } from "../../../core/budgets/pricing.ts";
import type { ProviderKind } from "../../../core/config/types.ts";
import { wordCount } from "../../../core/providers/mock/echo.ts";

/**
 * The finest tokenization any of these providers can produce: one token per UTF-8 byte (byte-level BPE
 * and SentencePiece byte fallback never split below a byte). Real tokenizers produce fewer tokens.
 */
const finestTokenization = (text: string) => Buffer.byteLength(text, "utf8");

const chat = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "any",
  messages,
  ...extra,
});

const user = (content: string): ChatMessage => ({ role: "user", content });

const SAMPLES: [string, string][] = [
  ["English", "The quick brown fox jumps over the lazy dog."],
  ["Chinese (3 bytes a character)", "敏捷的棕色狐狸跳过了懒狗。预算必须是上限。"],
  ["Japanese mixed scripts", "東京でラーメンを食べました。とても美味しかったです!"],
  ["emoji, including a family ZWJ sequence and flags", "👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 🎉"],
  ["Arabic and Hindi", "مرحبا بالعالم — नमस्ते दुनिया"],
  ["code with whitespace runs", "function f(x) {\n\t\treturn x   *   2;\n}\n\n\n"],
  ["an empty message", ""],
];

describe("worstCaseChatTokens: input", () => {
  it.each(SAMPLES)("is at least the finest possible tokenization of %s", (_, text) => {
    const bound = worstCaseChatTokens(chat([user(text)]), "openai", "gpt-4o");
    expect(bound.input).toBeGreaterThanOrEqual(finestTokenization(text));
    expect(bound.input).toBeGreaterThanOrEqual([...text].length);
  });

  it.each(SAMPLES)("is at least what the built-in mock provider reports for %s", (_, text) => {
    const bound = worstCaseChatTokens(chat([user(text)]), "mock", "echo");
    expect(bound.input).toBeGreaterThanOrEqual(wordCount(text));
  });

  it("adds every message's text and a per-message overhead", () => {
    const one = worstCaseChatTokens(chat([user("hello")]), "openai", "gpt-4o").input;
    const two = worstCaseChatTokens(chat([user("hello"), user("hello")]), "openai", "gpt-4o").input;
    expect(two - one).toBeGreaterThan(finestTokenization("hello"));
  });

  it("counts every text field of a conversation: system, names, parts, tool calls, refusals and tool results", () => {
    const texts = {
      system: "You are terse.",
      name: "alice_ünïcode",
      part: "What is 六 × 七?",
      callId: "call_abc123",
      fn: "multiply",
      args: '{"a":6,"b":7}',
      refusal: "I can't help with that.",
      toolResult: "42",
    };
    const messages: ChatMessage[] = [
      { role: "system", content: texts.system },
      { role: "user", name: texts.name, content: [{ type: "text", text: texts.part }] },
      {
        role: "assistant",
        content: null,
        refusal: texts.refusal,
        tool_calls: [
          { id: texts.callId, type: "function", function: { name: texts.fn, arguments: texts.args } },
        ],
      },
      { role: "tool", tool_call_id: texts.callId, content: texts.toolResult },
    ];
    const allBytes = Object.values(texts).reduce((n, t) => n + finestTokenization(t), 0);
    expect(
      worstCaseChatTokens(chat(messages), "anthropic", "claude-sonnet-4-5").input,
    ).toBeGreaterThanOrEqual(allBytes + finestTokenization(texts.callId));
  });

  it("counts the thinking echoed back with a tool call, which goes to Anthropic as input", () => {
    const call = (thinking: string) =>
      chat([
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "f", arguments: "{}" },
              extra_content: {
                anthropic: {
                  thinking_blocks: [
                    { type: "thinking", thinking, signature: "sig" },
                    { type: "redacted_thinking", data: "x".repeat(1000) },
                  ],
                },
              },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "ok" },
      ]);
    const bound = (thinking: string) =>
      worstCaseChatTokens(call(thinking), "anthropic", "claude-sonnet-4-5").input;
    expect(bound("t".repeat(5000)) - bound("")).toBeGreaterThanOrEqual(5000);
    expect(bound("")).toBeGreaterThanOrEqual(1000);
  });

  it("adds at least the JSON of every tool definition, a forced tool choice and a response schema", () => {
    const parameters = { type: "object", properties: { city: { type: "string", description: "城市名" } } };
    const schema = { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] };
    const base = chat([user("weather?")]);
    const withAll = chat([user("weather?")], {
      tools: [
        { type: "function", function: { name: "get_weather", description: "Weather now", parameters } },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
    });
    const extra =
      worstCaseChatTokens(withAll, "gemini", "gemini-2.5-flash").input -
      worstCaseChatTokens(base, "gemini", "gemini-2.5-flash").input;
    expect(extra).toBeGreaterThanOrEqual(
      finestTokenization(JSON.stringify(parameters)) + finestTokenization(JSON.stringify(schema)),
    );
  });

  it.each<[ProviderKind, string, number]>([
    ["openai", "gpt-4o", IMAGE_TOKENS.openai],
    ["openai", "gpt-4o-mini", IMAGE_TOKENS.openaiGpt4oMini],
    ["openai", "gpt-4o-mini-2024-07-18", IMAGE_TOKENS.openaiGpt4oMini],
    ["anthropic", "claude-sonnet-4-5", IMAGE_TOKENS.anthropic],
    ["gemini", "gemini-2.5-flash", IMAGE_TOKENS.gemini],
    ["mock", "echo", IMAGE_TOKENS.mock],
  ])("adds the %s allowance for each image sent to %s", (kind, model, allowance) => {
    const image = { type: "image_url" as const, image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    const text = { type: "text" as const, text: "compare" };
    const noImage = worstCaseChatTokens(chat([{ role: "user", content: [text] }]), kind, model).input;
    const twoImages = worstCaseChatTokens(
      chat([{ role: "user", content: [text, image, image] }]),
      kind,
      model,
    ).input;
    expect(twoImages - noImage).toBe(2 * allowance);
    expect(imageTokenAllowance(kind, model)).toBe(allowance);
  });

  it.each<[string, number, number]>([
    ["OpenAI tile models (gpt-4o, gpt-4.1): 85 + 170 × 8 tiles", 85 + 170 * 8, IMAGE_TOKENS.openai],
    [
      "OpenAI patch models: 1 536 patches × the largest multiplier, 2.46",
      Math.ceil(1536 * 2.46),
      IMAGE_TOKENS.openai,
    ],
    ["o4-mini: 1 536 patches × 1.72", Math.ceil(1536 * 1.72), IMAGE_TOKENS.openai],
    ["gpt-4o-mini: 2 833 + 5 667 × 8 tiles", 2833 + 5667 * 8, IMAGE_TOKENS.openaiGpt4oMini],
    ["Anthropic: about 1.15 megapixels / 750", Math.ceil(1_150_000 / 750), IMAGE_TOKENS.anthropic],
    [
      "Gemini: a 4 096 px square in 768 px tiles of 258",
      Math.ceil(4096 / 768) ** 2 * 258,
      IMAGE_TOKENS.gemini,
    ],
  ])("covers the documented most for one image: %s", (_, documented, allowance) => {
    expect(allowance).toBeGreaterThanOrEqual(documented);
  });
});

describe("worstCaseChatTokens: output", () => {
  it.each<[string, Partial<ChatRequest>, number]>([
    ["uses max_completion_tokens", { max_completion_tokens: 100 }, 100],
    ["uses max_tokens", { max_tokens: 200 }, 200],
    [
      "takes the larger of two limits, both sent to OpenAI",
      { max_completion_tokens: 100, max_tokens: 200 },
      200,
    ],
    ["falls back to the default the router sends upstream", {}, DEFAULT_MAX_OUTPUT_TOKENS],
    [
      "falls back to the default for explicit nulls",
      { max_tokens: null, max_completion_tokens: null },
      DEFAULT_MAX_OUTPUT_TOKENS,
    ],
    ["multiplies by n choices", { max_tokens: 50, n: 3 }, 150],
  ])("%s", (_, extra, output) => {
    expect(worstCaseChatTokens(chat([user("hi")], extra), "openai", "gpt-4o").output).toBe(output);
  });

  it("takes max_completion_tokens of two limits for Gemini, which is sent that one", () => {
    const both = chat([user("hi")], { max_completion_tokens: 100, max_tokens: 200 });
    expect(worstCaseChatTokens(both, "gemini", "gemini-2.5-flash").output).toBe(100);
  });

  it.each<[string, ProviderKind, Partial<ChatRequest>, number]>([
    [
      "adds a prediction's bytes at OpenAI, which bills its rejected tokens as output",
      "openai",
      { max_tokens: 100, prediction: { type: "content", content: "déjà vu" } },
      100 + 9,
    ],
    [
      "counts a prediction given as text parts",
      "openai",
      { max_tokens: 100, prediction: { type: "content", content: [{ type: "text", text: "ab" }] } },
      102,
    ],
    [
      "adds nothing at Gemini, which ignores it",
      "gemini",
      { max_tokens: 100, prediction: { type: "content", content: "déjà vu" } },
      100,
    ],
  ])("%s", (_, kind, extra, output) => {
    expect(worstCaseChatTokens(chat([user("hi")], extra), kind, "m").output).toBe(output);
  });

  it("sends 4 096 tokens upstream by default", () => {
    expect(DEFAULT_MAX_OUTPUT_TOKENS).toBe(4096);
  });

  it.each<[string, Partial<ChatRequest>, number]>([
    ["without thinking: the default", {}, 4096],
    [
      "thinking without a limit: its budget plus the answer's default",
      { reasoning_effort: "high" },
      16384 + 4096,
    ],
    ["thinking under a limit: the limit", { reasoning_effort: "high", max_completion_tokens: 3000 }, 3000],
    ["no thinking asked: the default", { reasoning_effort: "none" }, 4096],
  ])("bounds Anthropic by the max_tokens it is sent: %s", (_, extra, output) => {
    expect(worstCaseChatTokens(chat([user("hi")], extra), "anthropic", "claude-sonnet-4-5").output).toBe(
      output,
    );
  });
});

describe("worstCaseChatCost", () => {
  it("prices input at the higher of input and cached, and output at the higher of output and reasoning", () => {
    const price: Price = { inputPerMTok: 1, outputPerMTok: 2, cachedInputPerMTok: 0.5, reasoningPerMTok: 8 };
    const req = chat([user("hello")], { max_tokens: 1000 });
    const { input, output } = worstCaseChatTokens(req, "mock", "echo");
    expect(worstCaseChatCost(req, price, "mock", "echo")).toBeCloseTo((input * 1 + output * 8) / 1e6, 12);
  });

  it("prices input the provider counted as it counted it, and only the bound's input beyond it at the dearest price", () => {
    const price: Price = {
      inputPerMTok: 3,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.3,
      cacheWritePerMTok: 3.75,
      cacheWrite1hPerMTok: 6,
    };
    const req = chat([user("x".repeat(4_000))], { max_tokens: 10 });
    const { input, output } = worstCaseChatTokens(req, "mock", "echo");
    const counted = { input: 100, output: 0, cached: 60, reasoning: 0, cacheWrite: 30, cacheWrite1h: 10 };
    const countedPerM = 10 * 3 + 60 * 0.3 + 20 * 3.75 + 10 * 6;
    expect(worstCaseChatCost(req, price, "mock", "echo", counted)).toBeCloseTo(
      (countedPerM + (input - 100) * 6 + output * 15) / 1e6,
      12,
    );
    // A count past the bound replaces it: nothing is left at the dearest input price.
    const past = { ...counted, input: input + 500, cached: input };
    expect(worstCaseChatCost(req, price, "mock", "echo", past)).toBeCloseTo(
      (470 * 3 + input * 0.3 + 20 * 3.75 + 10 * 6 + output * 15) / 1e6,
      12,
    );
  });

  const sonnet = priceFor("anthropic", "claude-sonnet-4-5")!;
  const flash = priceFor("gemini", "gemini-2.5-flash")!;

  type Share = {
    input: number;
    output: number;
    cached: number;
    reasoning: number;
    write?: number;
    write1h?: number;
  };
  it.each<[string, Price, Share]>([
    ["half the bound, uncached, no reasoning", sonnet, { input: 0.5, output: 0.5, cached: 0, reasoning: 0 }],
    ["the whole bound used", sonnet, { input: 1, output: 1, cached: 0, reasoning: 0 }],
    ["half cached, all reasoning", sonnet, { input: 1, output: 1, cached: 0.5, reasoning: 1 }],
    [
      "the whole prompt written to the 1-hour cache",
      sonnet,
      { input: 1, output: 1, cached: 0, reasoning: 0, write: 1, write1h: 1 },
    ],
    [
      "a thinking model spending all output on reasoning",
      flash,
      { input: 1, output: 1, cached: 0, reasoning: 1 },
    ],
  ])("is never less than the cost of any usage within the token bound: %s", (_, price, share) => {
    const req = chat(
      SAMPLES.map(([, text]) => user(text)),
      { max_tokens: 512 },
    );
    const bound = worstCaseChatTokens(req, "anthropic", "claude-sonnet-4-5");
    const input = Math.floor(bound.input * share.input);
    const output = Math.floor(bound.output * share.output);
    const usage = {
      input,
      output,
      cached: Math.floor(input * share.cached),
      reasoning: Math.floor(output * share.reasoning),
      cacheWrite: Math.floor(input * (share.write ?? 0)),
      cacheWrite1h: Math.floor(input * (share.write1h ?? 0)),
    };
    expect(worstCaseChatCost(req, price, "anthropic", "claude-sonnet-4-5")).toBeGreaterThanOrEqual(
      costUsd(price, usage),
    );
  });

  describe("for a model with a long-context tier", () => {
    const pro = priceFor("gemini", "gemini-2.5-pro")!;
    const prompt = (bytes: number) => chat([user("a".repeat(bytes))], { max_tokens: 1000 });

    it("reserves at the base prices when the input bound cannot pass the threshold", () => {
      const req = prompt(100_000);
      const { input, output } = worstCaseChatTokens(req, "gemini", "gemini-2.5-pro");
      expect(input).toBeLessThanOrEqual(200_000);
      expect(worstCaseChatCost(req, pro, "gemini", "gemini-2.5-pro")).toBeCloseTo(
        (input * 1.25 + output * 10) / 1e6,
        9,
      );
    });

    it("reserves at the long-context prices once the input bound passes it, covering a prompt billed there", () => {
      const req = prompt(300_000);
      const { input, output } = worstCaseChatTokens(req, "gemini", "gemini-2.5-pro");
      const reserved = worstCaseChatCost(req, pro, "gemini", "gemini-2.5-pro");
      expect(reserved).toBeCloseTo((input * 2.5 + output * 15) / 1e6, 9);
      const billed = { input, output, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
      expect(reserved).toBeGreaterThanOrEqual(costUsd(pro, billed));
    });
  });

  it.each<[string, Partial<ChatRequest>, "priority" | "standard"]>([
    ["no tier (the project's default may be priority)", {}, "priority"],
    ["`auto`", { service_tier: "auto" }, "priority"],
    ["`priority`", { service_tier: "priority" }, "priority"],
    ["`default`", { service_tier: "default" }, "standard"],
    ["`flex`", { service_tier: "flex" }, "standard"],
  ])("reserves a GPT-5.4 request with %s at %s prices", (_, extra, tier) => {
    const price = priceFor("openai", "gpt-5.4")!;
    const req = chat([user("hi")], { max_tokens: 100, ...extra });
    const { input, output } = worstCaseChatTokens(req, "openai", "gpt-5.4");
    const [inPrice, outPrice] = tier === "priority" ? [5, 30] : [2.5, 15];
    expect(worstCaseChatCost(req, price, "openai", "gpt-5.4")).toBeCloseTo(
      (input * inPrice + output * outPrice) / 1e6,
      9,
    );
  });

  it.each<[string, string, [number, number]]>([
    ["`default` at standard", "default", [2.5, 15]],
    ["`flex` at flex", "flex", [1.25, 7.5]],
    ["`priority` at priority", "priority", [5, 30]],
    ["`auto` (a relay's echo, no tier) at any tier, priority included", "auto", [5, 30]],
    ["`on_demand` (another server's own word) at any tier, priority included", "on_demand", [5, 30]],
  ])(
    "bounds a GPT-5.4 request OpenAI said it serves at %s prices, whatever the request asked",
    (_, served, [inPrice, outPrice]) => {
      const price = priceFor("openai", "gpt-5.4")!;
      const req = chat([user("hi")], { max_tokens: 100 });
      const { input, output } = worstCaseChatTokens(req, "openai", "gpt-5.4");
      expect(worstCaseChatCost(req, price, "openai", "gpt-5.4", undefined, served)).toBeCloseTo(
        (input * inPrice + output * outPrice) / 1e6,
        9,
      );
    },
  );

  it("rounds up to a nano-dollar, so a tiny request still reserves something", () => {
    const cheap: Price = { inputPerMTok: 0.0001, outputPerMTok: 0.0001 };
    const req = chat([user("a")], { max_tokens: 1 });
    const { input, output } = worstCaseChatTokens(req, "mock", "echo");
    // A few dozen tokens at $0.0001 per 1M is a few nano-dollars: rounded up, never down to $0.
    const exact = ((input + output) * 0.0001) / 1e6;
    expect(exact % 1e-9).toBeGreaterThan(0);
    expect(worstCaseChatCost(req, cheap, "mock", "echo")).toBe(Math.ceil(exact * 1e9) / 1e9);
  });

  it("reserves a mock chat at the fictional mock prices", () => {
    const req = chat([user("hello world")], { max_tokens: 10 });
    const { input, output } = worstCaseChatTokens(req, "mock", "echo");
    expect(worstCaseChatCost(req, priceFor("mock", "echo")!, "mock", "echo")).toBeCloseTo(
      (input * 1 + output * 2) / 1e6,
      12,
    );
  });
});

describe("worstCaseEmbeddingTokens and worstCaseEmbeddingCost", () => {
  const embed = (input: EmbeddingsRequest["input"]): EmbeddingsRequest => ({ model: "embed", input });

  it.each(SAMPLES)("bounds %s by at least its finest tokenization", (_, text) => {
    expect(worstCaseEmbeddingTokens(embed(text))).toBeGreaterThanOrEqual(finestTokenization(text));
    expect(worstCaseEmbeddingTokens(embed(text))).toBeGreaterThanOrEqual(wordCount(text));
  });

  it.each([
    ["one token array", [5, 6, 7], 3],
    ["a batch of token arrays", [[5, 6, 7], [8]], 4],
  ])("counts %s exactly: token ids are the tokens", (_, input, tokens) => {
    expect(worstCaseEmbeddingTokens(embed(input))).toBe(tokens);
  });

  it("sums every input of a batch", () => {
    const texts = SAMPLES.map(([, t]) => t);
    const sum = texts.reduce((n, t) => n + worstCaseEmbeddingTokens(embed(t)), 0);
    expect(worstCaseEmbeddingTokens(embed(texts))).toBe(sum);
  });

  it.each<[string, Price, number]>([
    ["the embedding price", { inputPerMTok: 9, outputPerMTok: 0, embeddingPerMTok: 0.02 }, 0.02],
    ["the input price when there is no embedding price", { inputPerMTok: 0.13, outputPerMTok: 0 }, 0.13],
  ])("prices the bound at %s", (_, price, perMTok) => {
    const req = embed(["一二三", "hello"]);
    expect(worstCaseEmbeddingCost(req, price)).toBeCloseTo(
      (worstCaseEmbeddingTokens(req) * perMTok) / 1e6,
      12,
    );
    expect(worstCaseEmbeddingCost(req, price)).toBeGreaterThanOrEqual(
      (worstCaseEmbeddingTokens(req) * perMTok) / 1e6,
    );
  });
});
