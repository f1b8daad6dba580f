import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../../core/api/chat-request.ts";
import { IGNORED_FIELDS, toGeminiRequest } from "../../../../core/providers/gemini/request.ts";
import { chat, ctx, refusal } from "./helpers.ts";

const body = (fields: Partial<ChatRequest>) => JSON.parse(toGeminiRequest(chat(fields), ctx).body);

describe("Gemini request: tools", () => {
  const weather = {
    type: "function" as const,
    function: { name: "get_weather", description: "Weather", parameters: { type: "object" } },
  };

  it("declares functions with their full JSON Schema", () => {
    expect(body({ tools: [weather] }).tools).toEqual([
      {
        functionDeclarations: [
          { name: "get_weather", description: "Weather", parametersJsonSchema: { type: "object" } },
        ],
      },
    ]);
  });

  it.each([
    ["auto", { mode: "AUTO" }],
    ["none", { mode: "NONE" }],
    ["required", { mode: "ANY" }],
    [
      { type: "function", function: { name: "get_weather" } },
      { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    ],
  ] as const)("maps tool_choice %j to functionCallingConfig %j", (tool_choice, config) => {
    expect(body({ tools: [weather], tool_choice }).toolConfig).toEqual({ functionCallingConfig: config });
  });

  it.each([
    ["parallel_tool_calls: false", { tools: [weather], parallel_tool_calls: false }, "parallel_tool_calls"],
    [
      "strict functions",
      { tools: [{ ...weather, function: { ...weather.function, strict: true } }] },
      "tools[0].function.strict",
    ],
    [
      "a function name Gemini rejects",
      { tools: [{ ...weather, function: { name: "9lives" } }] },
      "tools[0].function.name",
    ],
  ] satisfies Array<[string, Partial<ChatRequest>, string]>)("refuses %s", (_, fields, param) => {
    expect(refusal(() => toGeminiRequest(chat(fields), ctx))).toMatchObject({
      status: 400,
      param,
    });
  });
});

describe("Gemini request: generation config", () => {
  it.each([
    ["temperature", { temperature: 0.3 }, { temperature: 0.3 }],
    ["top_p", { top_p: 0.9 }, { topP: 0.9 }],
    ["a single stop string", { stop: "END" }, { stopSequences: ["END"] }],
    ["stop strings", { stop: ["a", "b"] }, { stopSequences: ["a", "b"] }],
    ["max_tokens", { max_tokens: 100 }, { maxOutputTokens: 100 }],
    [
      "max_completion_tokens over max_tokens",
      { max_tokens: 100, max_completion_tokens: 50 },
      { maxOutputTokens: 50 },
    ],
    ["seed", { seed: 7 }, { seed: 7 }],
    ["n", { n: 2 }, { candidateCount: 2 }],
    ["logprobs", { logprobs: true }, { responseLogprobs: true }],
    [
      "logprobs with top_logprobs",
      { logprobs: true, top_logprobs: 3 },
      { responseLogprobs: true, logprobs: 3 },
    ],
    ["json_object", { response_format: { type: "json_object" } }, { responseMimeType: "application/json" }],
    [
      "json_schema",
      {
        response_format: {
          type: "json_schema",
          json_schema: { name: "x", schema: { type: "object" }, strict: true },
        },
      },
      { responseMimeType: "application/json", responseJsonSchema: { type: "object" } },
    ],
  ] satisfies Array<[string, Partial<ChatRequest>, object]>)("maps %s", (_, fields, config) => {
    expect(body(fields).generationConfig).toEqual(config);
  });

  it("sends no generationConfig when nothing is set", () => {
    expect(body({ response_format: { type: "text" } }).generationConfig).toBeUndefined();
  });

  it.each([
    ["logit_bias", { logit_bias: { "42": 1 } }],
    ["store", { store: true }],
    ["metadata", { metadata: { team: "a" } }],
    ["service_tier", { service_tier: "flex" }],
    ["n", { n: 2, stream: true }],
  ] satisfies Array<[string, Partial<ChatRequest>]>)(
    "refuses %s, which Gemini cannot honour",
    (param, fields) => {
      expect(refusal(() => toGeminiRequest(chat(fields), ctx))).toMatchObject({
        status: 400,
        param,
        code: "unsupported_parameter",
      });
    },
  );

  it.each<[string, Partial<ChatRequest>, string]>([
    ["user", { user: "u-1" }, "u-1"],
    ["modalities", { modalities: ["text"] }, "modalities"],
    ["prediction", { prediction: { type: "content", content: "predicted-text-42" } }, "predicted-text-42"],
  ])("accepts `%s` without sending it, as a documented ignored field", (field, over, trace) => {
    expect(IGNORED_FIELDS).toContain(field);
    expect(toGeminiRequest(chat(over), ctx).body).not.toContain(trace);
  });
});

describe("Gemini request: penalties, which only Gemini 2.0 takes", () => {
  const config = (over: Record<string, unknown>, model: string) =>
    JSON.parse(toGeminiRequest(chat(over), { ...ctx, model }).body).generationConfig;

  it("maps them for Gemini 2.0", () => {
    expect(config({ presence_penalty: 0.5, frequency_penalty: -0.5 }, "gemini-2.0-flash")).toEqual({
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
  });

  it.each(["gemini-2.5-flash", "gemini-3-pro-preview", "gemini-flash-latest"])(
    "leaves OpenAI's default, 0, out for %s",
    (model) => {
      expect(config({ presence_penalty: 0, frequency_penalty: 0 }, model)).toBeUndefined();
    },
  );

  it.each([
    ["gemini-2.5-pro", { presence_penalty: 0.5 }, "presence_penalty"],
    ["gemini-3.5-flash", { frequency_penalty: -1 }, "frequency_penalty"],
  ])("refuses another value for %s, naming it", (model, over, param) => {
    expect(refusal(() => toGeminiRequest(chat(over), { ...ctx, model }))).toMatchObject({
      status: 400,
      param,
      code: "unsupported_parameter",
    });
  });
});

describe("Gemini request: reasoning_effort", () => {
  it.each([
    [3000, "high", 2999],
    [4096, "medium", 4095],
    [100_000, "high", 24_576],
    [300, "low", 512],
  ] as const)(
    "thinks within the caller's limit of %d on Gemini 2.5, which counts thinking as output (%s → %d)",
    (limit, effort, budget) => {
      const sent = JSON.parse(
        toGeminiRequest(chat({ reasoning_effort: effort, max_tokens: limit }), {
          ...ctx,
          model: "gemini-2.5-flash",
        }).body,
      );
      expect(sent.generationConfig).toEqual({
        maxOutputTokens: limit,
        thinkingConfig: { thinkingBudget: budget },
      });
    },
  );

  it.each([
    ["gemini-3-pro-preview", "low", { thinkingLevel: "LOW" }],
    ["gemini-3-flash-preview", "minimal", { thinkingLevel: "MINIMAL" }],
    ["gemini-flash-latest", "high", { thinkingLevel: "HIGH" }],
    ["gemini-2.5-flash", "minimal", { thinkingBudget: 512 }],
    ["gemini-2.5-flash", "low", { thinkingBudget: 1024 }],
    ["gemini-2.5-pro", "medium", { thinkingBudget: 8192 }],
    ["gemini-2.5-flash-lite", "high", { thinkingBudget: 24576 }],
    ["gemini-2.5-flash", "none", { thinkingBudget: 0 }],
    // Nothing above high: Gemini 3's top level, 2.5's largest budget every model takes.
    ["gemini-3-pro-preview", "xhigh", { thinkingLevel: "HIGH" }],
    ["gemini-3.1-pro-preview", "max", { thinkingLevel: "HIGH" }],
    ["gemini-2.5-pro", "xhigh", { thinkingBudget: 24576 }],
    ["gemini-2.5-flash", "max", { thinkingBudget: 24576 }],
    // A level the model lacks becomes the next one up: Pro models have no MINIMAL, 3 Pro no MEDIUM.
    ["gemini-3-pro-preview", "medium", { thinkingLevel: "HIGH" }],
    ["gemini-3-pro-preview", "minimal", { thinkingLevel: "LOW" }],
    ["gemini-3.1-pro-preview", "medium", { thinkingLevel: "MEDIUM" }],
    ["gemini-3.1-pro-preview", "minimal", { thinkingLevel: "LOW" }],
    ["gemini-3.5-flash", "minimal", { thinkingLevel: "MINIMAL" }],
    // Gemini 2.5 Pro cannot stop thinking, but takes the smaller budgets (from 128).
    ["gemini-2.5-pro", "minimal", { thinkingBudget: 512 }],
    ["gemini-2.5-flash-lite", "none", { thinkingBudget: 0 }],
  ] as const)("asks %s to think with %s effort as %o", (model, effort, thinking) => {
    const sent = JSON.parse(toGeminiRequest(chat({ reasoning_effort: effort }), { ...ctx, model }).body);
    expect(sent.generationConfig).toEqual({ thinkingConfig: thinking });
  });

  it.each(["gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-1.5-pro"])(
    "sends %s, which does not think, nothing for an effort of none",
    (model) => {
      const sent = JSON.parse(toGeminiRequest(chat({ reasoning_effort: "none" }), { ...ctx, model }).body);
      expect(sent).not.toHaveProperty("generationConfig");
    },
  );

  it.each([
    ["none", "gemini-3-pro-preview", "Gemini 3, which always thinks"],
    ["none", "gemini-2.5-pro", "Gemini 2.5 Pro, which cannot stop thinking (budget 128 to 32 768)"],
    ["none", "gemini-2.5-pro-preview-06-05", "a Gemini 2.5 Pro preview"],
    ["low", "gemini-2.0-flash", "Gemini 2.0, which does not think"],
    ["high", "gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite"],
    ["minimal", "gemini-1.5-pro", "Gemini 1.5"],
  ] as const)("refuses an effort of %s for %s (%s), naming reasoning_effort", (effort, model, _why) => {
    expect(refusal(() => toGeminiRequest(chat({ reasoning_effort: effort }), { ...ctx, model }))).toEqual({
      status: 400,
      param: "reasoning_effort",
      code: "unsupported_parameter",
    });
  });
});

describe("Gemini request: what Gemini has no place for", () => {
  it.each([
    ["a verbosity other than the default", "gemini-2.5-flash", { verbosity: "high" }, "verbosity"],
  ] as const)("refuses %s", (_, model, fields, param) => {
    expect(() => toGeminiRequest(chat(fields), { ...ctx, model })).toThrow(
      expect.objectContaining({ status: 400, param, code: "unsupported_parameter" }),
    );
  });

  it("keeps OpenAI's cache controls out of the request: Gemini caches implicitly", () => {
    const sent = body({
      prompt_cache_retention: "24h",
      prompt_cache_options: { mode: "explicit", ttl: "30m" },
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "doc", prompt_cache_breakpoint: { mode: "explicit" } }],
        },
      ],
    });
    expect(JSON.stringify(sent)).not.toMatch(/cache|breakpoint|retention/);
    expect(sent.contents).toEqual([{ role: "user", parts: [{ text: "doc" }] }]);
  });

  it("keeps OpenAI's end-user and cache-key fields out of the request, and the default verbosity", () => {
    const sent = body({ safety_identifier: "hash-9", prompt_cache_key: "tenant-7", verbosity: "medium" });
    expect(JSON.stringify(sent)).not.toMatch(/hash-9|tenant-7|verbosity/);
  });
});
