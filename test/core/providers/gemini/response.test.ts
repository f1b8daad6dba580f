import { describe, expect, it } from "vitest";
import { fromGeminiResponse } from "../../../../core/providers/gemini/response.ts";
import { initGeminiStream, reduceGeminiStream } from "../../../../core/providers/gemini/stream.ts";
import type { ResponseMeta } from "../../../../core/providers/types.ts";
import { meta, refusal } from "./helpers.ts";

const candidate = (parts: unknown[], finishReason = "STOP", extra: object = {}) => ({
  content: { role: "model", parts },
  finishReason,
  ...extra,
});

describe("a Gemini function call it could not make", () => {
  const malformed = {
    content: {},
    finishReason: "MALFORMED_FUNCTION_CALL",
    finishMessage: "Malformed function call: print(x",
  };

  it.each(["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"])(
    "is a 502 upstream_malformed when it is all the answer (%s), not an empty stop",
    (finishReason) => {
      const run = () => fromGeminiResponse({ candidates: [{ ...malformed, finishReason }] }, meta);
      expect(run).toThrow(expect.objectContaining({ status: 502, code: "upstream_malformed" }));
      expect(run).toThrow(/could not make/);
    },
  );

  it("leaves an answer that has text as it is", () => {
    const c = fromGeminiResponse(
      { candidates: [candidate([{ text: "Hi" }], "MALFORMED_FUNCTION_CALL")] },
      meta,
    );
    expect(c.choices[0]).toMatchObject({ message: { content: "Hi" }, finish_reason: "stop" });
  });

  it("ends a stream with the fault, so it falls back or fails in band, a call Gemini billed", () => {
    const data = JSON.stringify({ candidates: [malformed] });
    expect(reduceGeminiStream({ event: undefined, data }, initGeminiStream(meta)).fault).toEqual({
      code: "upstream_malformed",
      message:
        "ended on a function call it could not make (MALFORMED_FUNCTION_CALL): Malformed function call: print(x",
      billed: true,
    });
  });

  it.each([
    ["its own usage", { usageMetadata: { promptTokenCount: 10, totalTokenCount: 12 } }, true],
    ["no usage of its own (an earlier chunk's running count is not the bill)", {}, undefined],
  ])("takes the failing chunk's count as final only when it carries %s", (_, extra, final) => {
    const first = JSON.stringify({
      candidates: [{ content: { role: "model", parts: [{ text: "Hi" }] }, index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1 },
    });
    const started = reduceGeminiStream({ event: undefined, data: first }, initGeminiStream(meta)).state;
    const data = JSON.stringify({ candidates: [malformed], ...extra });
    expect(reduceGeminiStream({ event: undefined, data }, started).state.usageFinal).toBe(final);
  });

  it("carries the usage Gemini billed for it on the error, to price the failed attempt", () => {
    const usageMetadata = { promptTokenCount: 10, totalTokenCount: 10 };
    const run = () => fromGeminiResponse({ candidates: [malformed], usageMetadata }, meta);
    expect(run).toThrow(
      expect.objectContaining({
        billedUsage: expect.objectContaining({ prompt_tokens: 10, completion_tokens: 0 }),
      }),
    );
  });
});

describe("Gemini response", () => {
  it("maps text, identity and usage", () => {
    const c = fromGeminiResponse(
      {
        candidates: [candidate([{ text: "Hello" }, { text: " world" }])],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
        modelVersion: "gemini-2.5-flash-001",
        responseId: "resp-1",
      },
      meta,
    );
    expect(c).toEqual({
      id: "resp-1",
      object: "chat.completion",
      created: meta.created,
      model: "gemini-2.5-flash-001",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello world", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
  });

  it("falls back to the gateway's id and model when Gemini names none", () => {
    const c = fromGeminiResponse({ candidates: [candidate([{ text: "x" }])] }, meta);
    expect([c.id, c.model]).toEqual([meta.id, meta.model]);
  });

  it("skips thought parts, which are reasoning summaries rather than the answer", () => {
    const c = fromGeminiResponse(
      { candidates: [candidate([{ text: "Hmm...", thought: true }, { text: "42" }])] },
      meta,
    );
    expect(c.choices[0]?.message.content).toBe("42");
  });

  it("maps function calls to tool calls with unique ids, Gemini's own where it gave one, and finish_reason tool_calls", () => {
    const c = fromGeminiResponse(
      {
        candidates: [
          candidate([
            { text: "Let me check." },
            { functionCall: { name: "get_weather", args: { city: "Paris" } } },
            { functionCall: { name: "get_time", id: "g-7" } },
            { functionCall: { name: "get_weather", args: { city: "Rome" }, id: "g-7" } },
          ]),
        ],
      },
      meta,
    );
    expect(c.choices[0]?.finish_reason).toBe("tool_calls");
    expect(c.choices[0]?.message.content).toBe("Let me check.");
    const made = expect.stringMatching(/^call_[0-9a-f]{24}$/);
    const calls = c.choices[0]?.message.tool_calls;
    expect(calls).toEqual([
      { id: made, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "g-7", type: "function", function: { name: "get_time", arguments: "{}" } },
      // Gemini repeated its id: this call gets one of the gateway's.
      { id: made, type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
    ]);
    expect(new Set(calls?.map((t) => t.id)).size).toBe(3);
  });

  it("returns a call's thought signature with it, in Google's OpenAI-compatible place", () => {
    const c = fromGeminiResponse(
      {
        candidates: [
          candidate([
            { functionCall: { name: "get_weather", args: {} }, thoughtSignature: "c2ln" },
            { functionCall: { name: "get_time" } },
          ]),
        ],
      },
      meta,
    );
    expect(c.choices[0]?.message.tool_calls?.map((t) => t.extra_content)).toEqual([
      { google: { thought_signature: "c2ln" } },
      undefined,
    ]);
  });

  it.each([
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
    ["IMAGE_SAFETY", "content_filter"],
    ["IMAGE_PROHIBITED_CONTENT", "content_filter"],
    ["IMAGE_RECITATION", "content_filter"],
    ["MALFORMED_FUNCTION_CALL", "stop"],
    ["OTHER", "stop"],
  ])("maps finishReason %s to %s", (reason, expected) => {
    const c = fromGeminiResponse({ candidates: [candidate([{ text: "x" }], reason)] }, meta);
    expect(c.choices[0]?.finish_reason).toBe(expected);
  });

  it("gives a candidate without content a null message", () => {
    const c = fromGeminiResponse({ candidates: [{ finishReason: "SAFETY" }] }, meta);
    expect(c.choices[0]?.message.content).toBeNull();
  });

  it("maps every candidate to a choice, using position when Gemini omits index 0", () => {
    const c = fromGeminiResponse(
      { candidates: [candidate([{ text: "a" }]), candidate([{ text: "b" }], "STOP", { index: 1 })] },
      meta,
    );
    expect(c.choices.map((ch) => [ch.index, ch.message.content])).toEqual([
      [0, "a"],
      [1, "b"],
    ]);
  });

  it("answers a blocked prompt with empty content and finish_reason content_filter", () => {
    const c = fromGeminiResponse(
      {
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
      },
      meta,
    );
    expect(c.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: null, refusal: null },
        finish_reason: "content_filter",
        logprobs: null,
      },
    ]);
    expect(c.usage).toEqual({ prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 });
  });

  it("folds tool-use prompt and thinking tokens into usage, with details only when reported", () => {
    const c = fromGeminiResponse(
      {
        candidates: [candidate([{ text: "x" }])],
        usageMetadata: {
          promptTokenCount: 100,
          toolUsePromptTokenCount: 20,
          candidatesTokenCount: 10,
          thoughtsTokenCount: 30,
          cachedContentTokenCount: 64,
        },
      },
      meta,
    );
    expect(c.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 40,
      total_tokens: 160,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 30 },
    });
  });

  it.each([
    ["no candidates and no block reason", {}],
    ["a function call without a name", { candidates: [candidate([{ functionCall: { args: {} } }])] }],
  ])("treats %s as a malformed upstream response (502)", (_, payload) => {
    expect(refusal(() => fromGeminiResponse(payload, meta))).toMatchObject({
      status: 502,
      code: "upstream_malformed",
    });
  });
});

describe("Gemini tool call ids the gateway makes", () => {
  const body = {
    candidates: [
      candidate([
        { functionCall: { name: "get_weather", args: { city: "Paris" } } },
        { functionCall: { name: "get_weather", args: { city: "Rome" } } },
      ]),
    ],
  };
  const answered = (m: ResponseMeta) =>
    fromGeminiResponse(body, m).choices[0]?.message.tool_calls?.map((t) => t.id);
  const streamed = (m: ResponseMeta) =>
    reduceGeminiStream({ event: undefined, data: JSON.stringify(body) }, initGeminiStream(m))
      .out.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))
      .map((t) => t.id);
  const paths = [
    ["an answer", answered],
    ["a stream", streamed],
  ] as const;

  it.each(paths)("are call_ and 24 hex digits, a different one for each call, in %s", (_, ids) => {
    const made = expect.stringMatching(/^call_[0-9a-f]{24}$/);
    expect(ids(meta)).toEqual([made, made]);
    expect(new Set(ids(meta)).size).toBe(2);
  });

  it.each(paths)(
    "never repeat from one turn to the next (Anthropic refuses a history that repeats one), in %s",
    (_, ids) => {
      const turns = ["chatcmpl-1", "chatcmpl-2", "chatcmpl-3"].flatMap((id) => ids({ ...meta, id }) ?? []);
      expect(new Set(turns).size).toBe(6);
    },
  );

  it("are the same each time one response is read, streamed or not", () => {
    expect(streamed(meta)).toEqual(answered(meta));
    expect(answered({ ...meta })).toEqual(answered(meta));
  });
});

describe("a Gemini answer without usageMetadata", () => {
  it("has no usage, rather than a count of zero nobody made (accounting then charges its worst case)", () => {
    const c = fromGeminiResponse({ candidates: [candidate([{ text: "Hi" }])] }, meta);
    expect(c).not.toHaveProperty("usage");
  });
});

describe("a Gemini prompt's audio", () => {
  const answer = (promptTokensDetails: unknown) =>
    fromGeminiResponse(
      {
        candidates: [candidate([{ text: "Hi" }])],
        usageMetadata: {
          promptTokenCount: 3_220,
          candidatesTokenCount: 10,
          cachedContentTokenCount: 20,
          promptTokensDetails,
        },
      },
      meta,
    ).usage;

  it("is reported where OpenAI reports audio input, summed over Gemini's AUDIO entries", () => {
    const details = [
      { modality: "TEXT", tokenCount: 20 },
      { modality: "AUDIO", tokenCount: 3_000 },
      { modality: "AUDIO", tokenCount: 200 },
    ];
    expect(answer(details)?.prompt_tokens_details).toEqual({ cached_tokens: 20, audio_tokens: 3_200 });
  });

  it.each([
    ["no breakdown", undefined],
    ["text alone", [{ modality: "TEXT", tokenCount: 3_220 }]],
  ])("is left out for %s", (_, details) => {
    expect(answer(details)?.prompt_tokens_details).toEqual({ cached_tokens: 20 });
  });
});
