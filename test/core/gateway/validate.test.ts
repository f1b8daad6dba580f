import { describe, expect, it } from "vitest";
import { z } from "zod";
import { chatRequest } from "../../../core/api/chat-request.ts";
import { chatRequestInput } from "../../../core/api/chat-request-input.ts";
import { GatewayError } from "../../../core/api/errors.ts";
import { MAX_JSON_DEPTH, parseJsonBody, validate } from "../../../core/gateway/validate.ts";

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

const ok = { model: "smart", messages: [{ role: "user", content: "hi" }] };

describe("parseJsonBody", () => {
  it("parses a JSON object", () => {
    expect(parseJsonBody(JSON.stringify(ok))).toEqual(ok);
  });

  it.each([
    ["an empty body", "", /empty/],
    ["malformed JSON", '{"model": ', /could not parse/],
    ["a trailing comma", '{"a":1,}', /could not parse/],
    ["plain text", "hello", /could not parse/],
  ])("answers 400 invalid_json for %s", (_what, text, message) => {
    const err = failure(() => parseJsonBody(text));
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_json",
      param: null,
    });
    expect(err.message).toMatch(message);
  });

  const deepArrays = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const deepObject = `{"model":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)},"messages":[]}`;

  it.each([
    ["a body of 100k nested arrays", deepArrays],
    ["a field holding 100k nested objects", deepObject],
  ])("answers 400 invalid_json, not a crash, for %s", (_, text) => {
    const err = failure(() => parseJsonBody(text));
    expect(err).toMatchObject({ status: 400, code: "invalid_json", param: null });
    expect(err.message).toMatch(`more than ${MAX_JSON_DEPTH} levels deep`);
  });

  it(`takes JSON nested ${MAX_JSON_DEPTH} levels deep, and refuses one level more`, () => {
    const nest = (levels: number) => `${'{"a":'.repeat(levels - 1)}[]${"}".repeat(levels - 1)}`;
    expect(() => parseJsonBody(nest(MAX_JSON_DEPTH))).not.toThrow();
    expect(failure(() => parseJsonBody(nest(MAX_JSON_DEPTH + 1)))).toMatchObject({ code: "invalid_json" });
  });

  it("answers 400 invalid_json, not a crash, for 100k unclosed arrays", () => {
    expect(failure(() => parseJsonBody("[".repeat(100_000)))).toMatchObject({
      status: 400,
      code: "invalid_json",
    });
  });
});

describe("validate against chatRequest", () => {
  it("returns the parsed request when the body is valid", () => {
    expect(validate(chatRequest, { ...ok, temperature: 0.5, stream: true })).toEqual({
      ...ok,
      temperature: 0.5,
      stream: true,
    });
  });

  it.each([
    ["null", null],
    ["an array", [ok]],
    ["a string", "hi"],
    ["a number", 1],
  ])("answers 400 invalid_request_body when the body is %s", (_what, body) => {
    expect(failure(() => validate(chatRequest, body))).toMatchObject({
      status: 400,
      code: "invalid_request_body",
      param: null,
    });
  });

  const m = (message: unknown) => ({ ...ok, messages: [message] });
  const bad: Array<[string, unknown, string]> = [
    ["an empty model", { ...ok, model: "" }, "model"],
    ["a model name over 256 characters", { ...ok, model: "m".repeat(257) }, "model"],
    ["no messages", { model: "x", messages: [] }, "messages"],
    ["messages that are not an array", { model: "x", messages: "hi" }, "messages"],
    ["an unknown role", m({ role: "robot", content: "x" }), "messages[0].role"],
    ["user content of the wrong type", m({ role: "user", content: 5 }), "messages[0].content"],
    [
      "a bad part inside the second message",
      { ...ok, messages: [ok.messages[0], { role: "user", content: [{ type: "text", text: 1 }] }] },
      "messages[1].content[0].text",
    ],
    ["a temperature above 2", { ...ok, temperature: 3 }, "temperature"],
    ["a string temperature", { ...ok, temperature: "hot" }, "temperature"],
    ["a fractional n", { ...ok, n: 1.5 }, "n"],
    ["five stop sequences", { ...ok, stop: ["a", "b", "c", "d", "e"] }, "stop"],
    ["a zero max_tokens", { ...ok, max_tokens: 0 }, "max_tokens"],
    ["an unknown reasoning_effort", { ...ok, reasoning_effort: "ultra" }, "reasoning_effort"],
    ["an unknown top-level field", { ...ok, foo: 1 }, "foo"],
    ["an unknown field inside a message", m({ role: "user", content: "x", foo: 1 }), "messages[0].foo"],
    ["an unknown stream_options field", { ...ok, stream_options: { bar: true } }, "stream_options.bar"],
    [
      "a tool name with spaces",
      { ...ok, tools: [{ type: "function", function: { name: "get weather" } }] },
      "tools[0].function.name",
    ],
  ];

  // OpenAI's wording and code for a field left out, which SDKs and callers match on.
  it.each([
    ["a missing model", { messages: ok.messages }, "model"],
    ["a tool message without tool_call_id", m({ role: "tool", content: "x" }), "messages[0].tool_call_id"],
    ["a user message without content", m({ role: "user" }), "messages[0].content"],
    ["a message without a role", m({ content: "x" }), "messages[0].role"],
  ])("answers 400 missing_required_parameter for %s, naming '%s'", (_what, body, param) => {
    expect(failure(() => validate(chatRequest, body))).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "missing_required_parameter",
      message: `Missing required parameter: '${param}'.`,
      param,
    });
  });

  it.each(bad)("answers 400 for %s with param '%s'", (_what, body, param) => {
    const err = failure(() => validate(chatRequest, body));
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request_body",
      param,
    });
    expect(err.message).toContain(param);
  });

  it.each([
    ["left out", "missing_required_parameter", {}],
    ["given a value it does not take", "invalid_request_body", { period: "week" }],
  ])("tells an enum field %s as OpenAI would: %s", (_what, code, body) => {
    const budget = z.object({ period: z.enum(["day", "month"]) }).strict();
    expect(failure(() => validate(budget, body))).toMatchObject({ status: 400, code, param: "period" });
  });

  it("phrases an unknown field the way OpenAI does", () => {
    expect(failure(() => validate(chatRequest, { ...ok, foo: 1 })).message).toBe(
      "Unrecognized request argument supplied: 'foo'.",
    );
  });

  it("names at most ten unknown fields, each at most 256 characters, and counts the rest", () => {
    const body: Record<string, unknown> = { ...ok, [`x${"y".repeat(1_000)}`]: 1 };
    for (let i = 0; i < 40_000; i++) body[`_${i}`] = 0;
    const err = failure(() => validate(chatRequest, body));
    expect(err.message).toContain("(and 39991 more)");
    expect(err.message.length).toBeLessThan(3_000);
    expect(err.param).toBe(`x${"y".repeat(255)}…`);
  });

  it("names every unknown field but points param at the first", () => {
    const err = failure(() => validate(chatRequest, { ...ok, foo: 1, bar: 2 }));
    expect(err.message).toBe("Unrecognized request argument supplied: 'foo', 'bar'.");
    expect(err.param).toBe("foo");
  });
});

describe("validate against chatRequestInput: rules across fields", () => {
  const weather = { name: "get_weather", parameters: { type: "object", properties: {} } };
  const tools = [{ type: "function", function: weather }];
  const call = { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } };
  const question = { role: "user", content: "Weather?" };

  it.each([
    [
      "a tool result no earlier assistant message called for",
      { ...ok, messages: [question, { role: "tool", tool_call_id: "call_1", content: "21" }] },
      "messages[1].tool_call_id",
      "Invalid 'messages[1].tool_call_id': messages with role 'tool' must be a response to a preceding message with 'tool_calls'; the assistant message this one follows has no tool call with this id.",
    ],
    [
      "tool_choice required without tools",
      { ...ok, tool_choice: "required" },
      "tool_choice",
      "Invalid 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    ],
    [
      "top_logprobs without logprobs",
      { ...ok, top_logprobs: 3 },
      "top_logprobs",
      "Invalid 'top_logprobs': 'top_logprobs' needs 'logprobs' set to true.",
    ],
    [
      "a tool_choice naming a function that is not in tools",
      { ...ok, tools, tool_choice: { type: "function", function: { name: "other" } } },
      "tool_choice.function.name",
      "Invalid 'tool_choice.function.name': 'tool_choice' names a function that is not in 'tools'.",
    ],
    [
      "an assistant turn of null content and an empty tool_calls",
      { ...ok, messages: [question, { role: "assistant", content: null, tool_calls: [] }, question] },
      "messages[1].content",
      "Invalid 'messages[1].content': expected a string, got null; an assistant message needs 'content' or 'tool_calls'.",
    ],
    [
      "a tool whose parameters declare more than 5 000 properties",
      {
        ...ok,
        tools: [
          {
            type: "function",
            function: {
              name: "wide",
              parameters: {
                type: "object",
                properties: Object.fromEntries(Array.from({ length: 5_001 }, (_, i) => [`p${i}`, {}])),
              },
            },
          },
        ],
      },
      "tools[0].function.parameters",
      "Invalid 'tools[0].function.parameters': a schema may declare at most 5000 properties in all.",
    ],
    [
      "an assistant turn with nothing in it",
      { ...ok, messages: [question, { role: "assistant" }, question] },
      "messages[1].content",
      "Invalid 'messages[1].content': an assistant message needs 'content' or 'tool_calls'.",
    ],
    [
      "a named tool_choice without tools",
      { ...ok, tool_choice: { type: "function", function: { name: "get_weather" } } },
      "tool_choice",
      "Invalid 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    ],
  ])("answers 400 for %s, naming the field", (_what, body, param, message) => {
    expect(failure(() => validate(chatRequestInput, body))).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request_body",
      param,
      message,
    });
  });

  it("reports a field's own fault before a rule across fields", () => {
    const body = { ...ok, temperature: 3, tool_choice: "required" };
    expect(failure(() => validate(chatRequestInput, body)).param).toBe("temperature");
  });

  it.each([
    [
      "a tool loop whose results answer the calls",
      {
        ...ok,
        tools,
        messages: [
          question,
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: "call_1", content: "21" },
        ],
      },
    ],
    ["tool_choice auto without tools", { ...ok, tool_choice: "auto" }],
    ["tool_choice none without tools", { ...ok, tool_choice: "none" }],
    [
      "a conversation of only a system message, which OpenAI answers",
      { ...ok, messages: [{ role: "system", content: "Greet." }] },
    ],
    [
      "legacy functions with a named function_call",
      { ...ok, functions: [weather], function_call: { name: "get_weather" } },
    ],
    [
      "a legacy history whose function result answers a function_call",
      {
        ...ok,
        functions: [weather],
        messages: [
          question,
          { role: "assistant", content: null, function_call: { name: "get_weather", arguments: "{}" } },
          { role: "function", name: "get_weather", content: "21" },
        ],
      },
    ],
  ])("accepts %s", (_what, body) => {
    expect(validate(chatRequestInput, body)).toEqual(body);
  });
});
