import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../../core/api/chat-request.ts";
import { anthropicToolId } from "../../../../core/providers/anthropic/messages.ts";
import { toAnthropicRequest } from "../../../../core/providers/anthropic/request.ts";

const CTX = { providerId: "anthropic", model: "claude-sonnet-4-5", apiKey: "k" };

/** Maps messages through the public request mapper, after the gateway's own schema accepted them. */
const mapped = (messages: unknown[]) =>
  JSON.parse(toAnthropicRequest(chatRequest.parse({ model: "c", messages }), CTX).body);
const refusal = (messages: unknown[]) => {
  try {
    mapped(messages);
  } catch (err) {
    return err;
  }
  throw new Error("expected the request to be refused");
};

const call = (id: string, name: string, args: string) => ({
  id,
  type: "function",
  function: { name, arguments: args },
});
const png = "data:image/png;base64,iVBORw0KGgo=";

describe("toAnthropicRequest, messages", () => {
  it("hoists system and developer messages, wherever they are, into the top-level system in order", () => {
    const b = mapped([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "developer", content: [{ type: "text", text: "Use French." }] },
      { role: "assistant", content: "Salut." },
    ]);
    expect(b.system).toEqual([
      { type: "text", text: "Be brief." },
      { type: "text", text: "Use French." },
    ]);
    expect(b.messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: [{ type: "text", text: "Salut." }] },
    ]);
  });

  it("maps user text and image parts: http URLs by reference, data URIs as base64", () => {
    const b = mapped([
      {
        role: "user",
        content: [
          { type: "text", text: "Compare:" },
          { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
          { type: "image_url", image_url: { url: png, detail: "auto" } },
        ],
      },
    ]);
    expect(b.messages[0].content).toEqual([
      { type: "text", text: "Compare:" },
      { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    ]);
  });

  it.each([
    ["data:image/bmp;base64,Qk0=", "messages[1].content[1].image_url"],
    ["data:image/png,not-base64", "messages[1].content[1].image_url"],
  ])("refuses the image %s with a 400 naming %s", (url, param) => {
    const content = [
      { type: "text", text: "Look" },
      { type: "image_url", image_url: { url } },
    ];
    const messages = [
      { role: "system", content: "s" },
      { role: "user", content },
    ];
    expect(refusal(messages)).toMatchObject({ status: 400, param });
  });

  it("refuses a conversation of system prompts only, which Anthropic answers with 400, naming messages", () => {
    expect(refusal([{ role: "system", content: "Be brief." }])).toMatchObject({
      status: 400,
      param: "messages",
      code: "unsupported_parameter",
    });
  });

  it("refuses an image detail other than auto, since Anthropic has no resolution setting", () => {
    const content = [{ type: "image_url", image_url: { url: png, detail: "low" } }];
    expect(refusal([{ role: "user", content }])).toMatchObject({
      status: 400,
      param: "messages[0].content[0].image_url.detail",
    });
  });

  it("sends assistant text, then its tool calls as tool_use blocks with parsed input", () => {
    const b = mapped([
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [call("call_1", "get_weather", '{"city":"Paris"}'), call("call_2", "ping", "{}")],
      },
    ]);
    expect(b.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_2", name: "ping", input: {} },
      ],
    });
  });

  it("leaves out the empty text OpenAI clients send next to tool calls", () => {
    const b = mapped([
      { role: "user", content: "x" },
      { role: "assistant", content: "", tool_calls: [call("c", "f", "{}")] },
    ]);
    expect(b.messages[1].content).toEqual([{ type: "tool_use", id: "c", name: "f", input: {} }]);
  });

  it.each(["not json", "[1,2]", "null", '"text"'])("refuses tool call arguments %s with a 400", (args) => {
    const messages = [
      { role: "user", content: "x" },
      { role: "assistant", tool_calls: [call("a", "f", "{}"), call("b", "f", args)] },
    ];
    expect(refusal(messages)).toMatchObject({
      status: 400,
      param: "messages[1].tool_calls[1].function.arguments",
    });
  });

  it.each([
    [
      "an empty system message",
      [
        { role: "system", content: "" },
        { role: "user", content: "q" },
      ],
    ],
    [
      "a whitespace system part",
      [
        { role: "system", content: [{ type: "text", text: " \n" }] },
        { role: "user", content: "q" },
      ],
    ],
  ])("leaves out %s, which Anthropic refuses and which says nothing", (_, messages) => {
    expect(mapped(messages)).not.toHaveProperty("system");
  });

  it("leaves out an assistant turn of only whitespace, merging the user turns around it", () => {
    const b = mapped([
      { role: "user", content: "q" },
      { role: "assistant", content: "\n\n", refusal: " " },
      { role: "user", content: "again" },
    ]);
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "q" },
          { type: "text", text: "again" },
        ],
      },
    ]);
  });

  it.each([
    ["an empty user message", ""],
    ["a whitespace user part", [{ type: "text", text: " " }]],
  ])("leaves out %s, merging the assistant turns around it", (_, content) => {
    const b = mapped([
      { role: "user", content: "q" },
      { role: "assistant", content: "A." },
      { role: "user", content },
      { role: "assistant", content: "B." },
      { role: "user", content: "again" },
    ]);
    expect(b.messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(b.messages[1].content).toEqual([
      { type: "text", text: "A." },
      { type: "text", text: "B." },
    ]);
  });

  it("keeps the other parts of a user message whose text part is blank", () => {
    const b = mapped([
      {
        role: "user",
        content: [
          { type: "text", text: "\n" },
          { type: "image_url", image_url: { url: "https://x.test/a.png" } },
        ],
      },
    ]);
    expect(b.messages[0].content).toEqual([
      { type: "image", source: { type: "url", url: "https://x.test/a.png" } },
    ]);
  });

  it.each([
    ["an empty string", ""],
    ["a blank text part", [{ type: "text", text: "" }]],
    ["whitespace", " \n"],
  ])("sends a tool result of %s without content, which Anthropic takes", (_, content) => {
    const b = mapped([
      { role: "user", content: "q" },
      { role: "assistant", content: null, tool_calls: [call("c1", "f", "{}")] },
      { role: "tool", tool_call_id: "c1", content },
    ]);
    expect(b.messages[2].content).toEqual([{ type: "tool_result", tool_use_id: "c1" }]);
  });

  it("keeps the text parts of a tool result that say something", () => {
    const b = mapped([
      { role: "user", content: "q" },
      { role: "assistant", content: null, tool_calls: [call("c1", "f", "{}")] },
      {
        role: "tool",
        tool_call_id: "c1",
        content: [
          { type: "text", text: " " },
          { type: "text", text: "21" },
        ],
      },
    ]);
    expect(b.messages[2].content[0].content).toEqual([{ type: "text", text: "21" }]);
  });

  it("gives a call and its result the same id in Anthropic's alphabet, keeping distinct ids distinct", () => {
    const b = mapped([
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          call("functions.get_weather:0", "get_weather", "{}"),
          call("functions_get_weather_0", "get_weather", "{}"),
        ],
      },
      { role: "tool", tool_call_id: "functions.get_weather:0", content: "21" },
      { role: "tool", tool_call_id: "functions_get_weather_0", content: "22" },
    ]);
    const [first, second] = b.messages[1].content.map((x: { id: string }) => x.id);
    expect(first).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(first).not.toBe(second);
    expect(second).toBe("functions_get_weather_0");
    expect(b.messages[2].content.map((x: { tool_use_id: string }) => x.tool_use_id)).toEqual([first, second]);
    expect(anthropicToolId("functions.get_weather:0")).toBe(first);
  });

  it('takes a call without arguments ("") as an empty input', () => {
    const b = mapped([
      { role: "user", content: "q" },
      { role: "assistant", content: null, tool_calls: [call("c1", "now", "")] },
      { role: "tool", tool_call_id: "c1", content: "12:00" },
    ]);
    expect(b.messages[1].content[0]).toMatchObject({ type: "tool_use", name: "now", input: {} });
  });

  it("merges consecutive tool results, and the user message after them, into one user message", () => {
    const b = mapped([
      { role: "user", content: "Weather and time?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [call("call_1", "w", "{}"), call("call_2", "t", "{}")],
      },
      { role: "tool", tool_call_id: "call_1", content: "Sunny" },
      { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "Noon" }] },
      { role: "user", content: "Thanks, and tomorrow?" },
    ]);
    expect(b.messages).toHaveLength(3);
    expect(b.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_1", content: "Sunny" },
        { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "Noon" }] },
        { type: "text", text: "Thanks, and tomorrow?" },
      ],
    });
  });

  it("merges a long run of turns in linear time, leaving the caller's parts as they were", () => {
    // Each merge copied the merged list once: 110 000 one-letter turns took 100 s of one process's CPU.
    const parts = [{ type: "text", text: "b" }];
    const turns = Array.from({ length: 50_000 }, (_, i) =>
      i === 0 ? { role: "user", content: parts } : { role: "user", content: "x" },
    );
    const started = performance.now();
    const b = mapped(turns);
    // Linear, this is well under a second; quadratic, it was about 25 s.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(b.messages).toHaveLength(1);
    expect(b.messages[0].content).toHaveLength(50_000);
    expect(parts).toEqual([{ type: "text", text: "b" }]);
  });

  it("maps a system message of 200 000 parts, past what a spread's arguments take", () => {
    const parts = Array.from({ length: 200_000 }, () => ({ type: "text", text: "x" }));
    const b = mapped([
      { role: "system", content: parts },
      { role: "user", content: "Hi" },
    ]);
    expect(b.system).toHaveLength(200_000);
  });

  it("merges consecutive same-role messages so the roles alternate", () => {
    const b = mapped([
      { role: "user", content: "One." },
      { role: "user", content: [{ type: "text", text: "Two." }] },
      { role: "assistant", content: "A." },
      { role: "assistant", content: "B." },
    ]);
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "One." },
          { type: "text", text: "Two." },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "A." },
          { type: "text", text: "B." },
        ],
      },
    ]);
  });

  it("keeps a past assistant refusal in the transcript as its text", () => {
    const b = mapped([
      { role: "user", content: "x" },
      { role: "assistant", content: null, refusal: "I can't help with that." },
    ]);
    expect(b.messages[1].content).toEqual([{ type: "text", text: "I can't help with that." }]);
  });
});
