import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../../core/api/chat-request.ts";
import { toGeminiRequest } from "../../../../core/providers/gemini/request.ts";
import { chat, ctx, refusal } from "./helpers.ts";

const body = (fields: Partial<ChatRequest>) => JSON.parse(toGeminiRequest(chat(fields), ctx).body);
const call = (id: string, name: string, args: string) => ({
  id,
  type: "function" as const,
  function: { name, arguments: args },
});

describe("Gemini request: endpoint", () => {
  it("posts non-streaming requests to generateContent with the API key header", () => {
    const up = toGeminiRequest(chat({}), ctx);
    expect(up.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(up.headers).toEqual({ "x-goog-api-key": "test-key", "content-type": "application/json" });
  });

  it("posts streaming requests to streamGenerateContent as SSE", () => {
    expect(toGeminiRequest(chat({ stream: true }), ctx).path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
  });

  it("URL-encodes the model name", () => {
    expect(toGeminiRequest(chat({}), { ...ctx, model: "tuned/my model" }).path).toBe(
      "/v1beta/models/tuned%2Fmy%20model:generateContent",
    );
  });
});

describe("Gemini request: messages", () => {
  it("maps a system message and a turn of 200 000 parts each, past what a spread's arguments take", () => {
    const parts = Array.from({ length: 200_000 }, () => ({ type: "text" as const, text: "x" }));
    const b = body({
      messages: [
        { role: "system", content: parts },
        { role: "user", content: "a" },
        { role: "user", content: parts },
      ],
    });
    expect(b.systemInstruction.parts).toHaveLength(200_000);
    expect(b.contents[0].parts).toHaveLength(200_001);
  });

  it("moves system and developer messages into systemInstruction", () => {
    const b = body({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use French." }] },
        { role: "user", content: "Hi" },
      ],
    });
    expect(b.systemInstruction).toEqual({ parts: [{ text: "Be brief." }, { text: "Use French." }] });
    expect(b.contents).toEqual([{ role: "user", parts: [{ text: "Hi" }] }]);
  });

  it("leaves out an empty system message, which Gemini refuses as an empty text part", () => {
    const b = body({
      messages: [
        { role: "system", content: "" },
        { role: "user", content: "Hi" },
      ],
    });
    expect(b).not.toHaveProperty("systemInstruction");
  });

  it("sends data-URI images inline and http images as fileData with a guessed MIME type", () => {
    const b = body({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.JPG?size=large" } },
          ],
        },
      ],
    });
    expect(b.contents[0].parts).toEqual([
      { text: "Compare" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { fileUri: "https://example.com/cat.JPG?size=large", mimeType: "image/jpeg" } },
    ]);
  });

  it.each([
    ["an image URL without a known extension", { url: "https://example.com/image" }, "image_url"],
    ["a non-base64 data URI", { url: "data:image/svg+xml,<svg/>" }, "image_url"],
    ["a data URI that holds no image", { url: "data:text/plain;base64,aGk=" }, "image_url"],
    [
      "a detail other than auto",
      { url: "https://example.com/a.png", detail: "high" as const },
      "image_url.detail",
    ],
  ])("refuses %s", (_, image_url, suffix) => {
    const req = chat({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "x" },
            { type: "image_url", image_url },
          ],
        },
      ],
    });
    expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
      status: 400,
      param: `messages[0].content[1].${suffix}`,
    });
  });

  it("sends assistant text then its tool calls as functionCall parts, without ids", () => {
    const b = body({
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [call("c1", "get_weather", '{"city":"Paris"}')],
        },
        { role: "tool", tool_call_id: "c1", content: '{"temp":21}' },
      ],
    });
    expect(b.contents[1]).toEqual({
      role: "model",
      parts: [{ text: "Checking." }, { functionCall: { name: "get_weather", args: { city: "Paris" } } }],
    });
  });

  it("drops the empty text OpenAI clients send next to tool calls, which Gemini refuses", () => {
    const b = body({
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: "", tool_calls: [call("c1", "get_weather", "{}")] },
        { role: "tool", tool_call_id: "c1", content: "21" },
      ],
    });
    expect(b.contents[1]).toEqual({
      role: "model",
      parts: [{ functionCall: { name: "get_weather", args: {} } }],
    });
  });

  describe("a refused assistant turn", () => {
    const refused = "I can't help with that.";
    it.each([
      ["null", null],
      ["empty", ""],
      ["whitespace", "  "],
      ["an empty text part", [{ type: "text" as const, text: "" }]],
    ])("is sent as its refusal when its content is %s", (_, content) => {
      const b = body({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content, refusal: refused },
          { role: "user", content: "b" },
        ],
      });
      expect(b.contents).toEqual([
        { role: "user", parts: [{ text: "a" }] },
        { role: "model", parts: [{ text: refused }] },
        { role: "user", parts: [{ text: "b" }] },
      ]);
    });

    it("keeps what the turn said when it said something besides the refusal", () => {
      const b = body({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "Partly.", refusal: refused },
        ],
      });
      expect(b.contents[1]).toEqual({ role: "model", parts: [{ text: "Partly." }] });
    });

    it("is left out when its refusal is empty too, as Gemini refuses an empty text part", () => {
      const b = body({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: null, refusal: "" },
          { role: "user", content: "b" },
        ],
      });
      expect(b.contents).toEqual([{ role: "user", parts: [{ text: "a" }, { text: "b" }] }]);
    });
  });

  describe("empty user text, which OpenAI takes and Gemini refuses as an empty text part", () => {
    it("is left out of a user message's parts", () => {
      const b = body({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "" },
              { type: "text", text: "look" },
              { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            ],
          },
        ],
      });
      expect(b.contents).toEqual([
        { role: "user", parts: [{ text: "look" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] },
      ]);
    });

    it.each([
      ["an empty string", ""],
      ["only empty text parts", [{ type: "text" as const, text: "" }]],
    ])("leaves no user turn when the message is %s", (_, content) => {
      const b = body({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "ok" },
          { role: "user", content },
          { role: "assistant", content: "still here" },
          { role: "user", content: "b" },
        ],
      });
      expect(b.contents).toEqual([
        { role: "user", parts: [{ text: "a" }] },
        { role: "model", parts: [{ text: "ok" }, { text: "still here" }] },
        { role: "user", parts: [{ text: "b" }] },
      ]);
    });

    it("is refused as a conversation with nothing to answer when it is all there is", () => {
      const req = chat({ messages: [{ role: "user", content: "" }] });
      expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
        status: 400,
        param: "messages",
        code: "unsupported_parameter",
      });
    });

    it.each([
      ["an empty string", ""],
      ["an empty text part", [{ type: "text" as const, text: "" }]],
    ])("gives a tool result of %s as an empty response value, not a text part", (_, content) => {
      const b = body({
        messages: [
          { role: "user", content: "Run it" },
          { role: "assistant", tool_calls: [call("c1", "run", "{}")] },
          { role: "tool", tool_call_id: "c1", content },
        ],
      });
      expect(b.contents[2]).toEqual({
        role: "user",
        parts: [{ functionResponse: { name: "run", response: { content: "" } } }],
      });
    });
  });

  const SKIP = "skip_thought_signature_validator";
  it.each([
    // A history without signatures: the skip value on every call for Gemini 3 and later, nothing for 2.x.
    ["gemini-3-pro-preview", [undefined, undefined], [SKIP, SKIP]],
    ["gemini-3.1-flash", [undefined, undefined], [SKIP, SKIP]],
    ["gemini-4-pro", [undefined, undefined], [SKIP, SKIP]],
    ["gemini-2.5-flash", [undefined, undefined], [undefined, undefined]],
    ["gemini-2.0-flash", [undefined, undefined], [undefined, undefined]],
    // The signatures a history carries go back exactly where they were given, for any generation.
    ["gemini-3-pro-preview", ["c2ln", undefined], ["c2ln", undefined]],
    ["gemini-2.5-flash", ["c2ln", undefined], ["c2ln", undefined]],
  ])("replays tool calls to %s carrying %j with thought signatures %j", (model, given, sent) => {
    const calls = [call("c1", "get_weather", "{}"), call("c2", "get_time", "{}")].map((c, i) =>
      given[i] ? { ...c, extra_content: { google: { thought_signature: given[i] } } } : c,
    );
    const req = chat({
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", tool_calls: calls },
        { role: "tool", tool_call_id: "c1", content: "21" },
        { role: "tool", tool_call_id: "c2", content: "noon" },
      ],
    });
    const parts = JSON.parse(toGeminiRequest(req, { ...ctx, model }).body).contents[1].parts;
    expect(parts.map((p: { thoughtSignature?: string }) => p.thoughtSignature)).toEqual(sent);
  });

  it.each([
    ["not JSON", "{oops"],
    ["a JSON array", "[1]"],
    ["JSON null", "null"],
  ])("refuses tool call arguments that are %s", (_, args) => {
    const req = chat({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", tool_calls: [call("a", "f", "{}"), call("b", "f", args)] },
      ],
    });
    expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
      status: 400,
      param: "messages[1].tool_calls[1].function.arguments",
    });
  });

  it("names tool results after the call they answer and merges consecutive results into one user turn", () => {
    const b = body({
      messages: [
        { role: "user", content: "Weather and time?" },
        { role: "assistant", tool_calls: [call("c1", "get_weather", "{}"), call("c2", "get_time", "")] },
        { role: "tool", tool_call_id: "c1", content: '{"temp":21}' },
        { role: "tool", tool_call_id: "c2", content: "noon" },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(b.contents[1].parts[1]).toEqual({ functionCall: { name: "get_time", args: {} } });
    expect(b.contents[2]).toEqual({
      role: "user",
      parts: [
        { functionResponse: { name: "get_weather", response: { temp: 21 } } },
        { functionResponse: { name: "get_time", response: { content: "noon" } } },
        { text: "Thanks" },
      ],
    });
    expect(b.contents).toHaveLength(3);
  });

  describe("results of parallel calls, which Gemini pairs with its calls by position", () => {
    const cities = ["Paris", "Rome", "Tokyo"];
    const calls = cities.map((city, k) => call(`c${k}`, "get_weather", JSON.stringify({ city })));
    const result = (k: number) => ({
      role: "tool" as const,
      tool_call_id: `c${k}`,
      content: cities[k] ?? "",
    });
    const answered = (order: number[]) =>
      body({
        messages: [
          { role: "user", content: "Weather in three cities?" },
          { role: "assistant", tool_calls: calls },
          ...order.map(result),
          { role: "user", content: "Thanks" },
        ],
      }).contents[2].parts;

    it.each([[[0, 1, 2]], [[2, 0, 1]], [[1, 2, 0]], [[2, 1, 0]]])(
      "go back in the order of the calls when the client appended them in the order %j",
      (order) => {
        expect(answered(order)).toEqual([
          ...cities.map((city) => ({
            functionResponse: { name: "get_weather", response: { content: city } },
          })),
          { text: "Thanks" },
        ]);
      },
    );

    it("are each put with the turn that made their call, when a later turn reuses its ids", () => {
      const turn = (city: string, time: string) => [
        {
          role: "assistant" as const,
          tool_calls: [call("call_0", "get_weather", "{}"), call("call_1", "get_time", "{}")],
        },
        { role: "tool" as const, tool_call_id: "call_1", content: time },
        { role: "tool" as const, tool_call_id: "call_0", content: city },
      ];
      const b = body({
        messages: [{ role: "user", content: "?" }, ...turn("Paris", "noon"), ...turn("Rome", "one")],
      });
      const responses = [b.contents[2].parts, b.contents[4].parts].map((parts) =>
        parts.map(
          (p: { functionResponse: { name: string; response: { content: string } } }) =>
            `${p.functionResponse.name}=${p.functionResponse.response.content}`,
        ),
      );
      expect(responses).toEqual([
        ["get_weather=Paris", "get_time=noon"],
        ["get_weather=Rome", "get_time=one"],
      ]);
    });

    it("still name the message of a result for an unknown call when refusing it", () => {
      const req = chat({
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", tool_calls: calls.slice(0, 2) },
          { role: "tool", tool_call_id: "nope", content: "1" },
          result(1),
        ],
      });
      expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
        status: 400,
        param: "messages[2].tool_call_id",
      });
    });
  });

  it("refuses a tool result for an unknown tool_call_id", () => {
    const req = chat({
      messages: [
        { role: "user", content: "x" },
        { role: "tool", tool_call_id: "nope", content: "1" },
      ],
    });
    expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
      status: 400,
      param: "messages[1].tool_call_id",
    });
  });

  it("merges consecutive turns of the same role", () => {
    const b = body({
      messages: [
        { role: "user", content: "a" },
        { role: "user", content: "b" },
      ],
    });
    expect(b.contents).toEqual([{ role: "user", parts: [{ text: "a" }, { text: "b" }] }]);
  });

  it("refuses participant names, which Gemini cannot carry", () => {
    const req = chat({ messages: [{ role: "user", content: "x", name: "alice" }] });
    expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
      status: 400,
      param: "messages[0].name",
    });
  });
});

describe("Gemini request: a conversation of system prompts only", () => {
  it("is refused before the call, naming messages: Gemini answers empty contents with 400", () => {
    const req = chat({ messages: [{ role: "system", content: "Be brief." }] });
    expect(refusal(() => toGeminiRequest(req, ctx))).toMatchObject({
      status: 400,
      param: "messages",
      code: "unsupported_parameter",
    });
  });
});
