import { describe, expect, it } from "vitest";
import type { ToolChoice } from "../../../core/api/chat-request.ts";
import {
  emptyAssistantMessage,
  orphanToolResult,
  oversizedSchema,
  streamOptionsWithoutStream,
  toolChoiceOutsideTools,
  toolChoiceWithoutTools,
  topLogprobsWithoutLogprobs,
  unansweredToolCalls,
} from "../../../core/api/conversation-rules.ts";

const user = { role: "user" };
const calling = (...ids: string[]) => ({
  role: "assistant",
  tool_calls: ids.map((id) => ({ id, type: "function", function: { name: "f", arguments: "{}" } })),
});
const result = (id: string) => ({ role: "tool", tool_call_id: id });

describe("orphanToolResult", () => {
  it.each([
    ["a conversation without tools", [user]],
    ["results answering the calls just before them", [user, calling("a", "b"), result("a"), result("b")]],
    ["a legacy function result, which legacy-functions.ts matches", [user, { role: "function" }]],
  ])("finds none in %s", (_what, messages) => {
    expect(orphanToolResult(messages)).toBeUndefined();
  });

  it.each([
    ["a result with no call anywhere", [user, result("a")], 1],
    ["a result whose id no call has", [user, calling("a"), result("a"), result("z")], 3],
    ["a result before its call", [user, result("a"), calling("a")], 1],
    [
      "a result answering a call of an earlier turn",
      [user, calling("a"), user, calling("b"), result("a")],
      4,
    ],
    [
      "a result after the assistant's next answer",
      [user, calling("a"), result("a"), { role: "assistant" }, result("a")],
      4,
    ],
    ["a result after a user message", [user, calling("a"), result("a"), user, result("a")], 4],
    ["a result answering a user message's id", [{ ...user, tool_call_id: "a" }, result("a")], 1],
  ])("points at the tool_call_id of %s", (_what, messages, at) => {
    expect(orphanToolResult(messages)).toEqual({
      path: ["messages", at, "tool_call_id"],
      message: expect.stringContaining("preceding message with 'tool_calls'"),
    });
  });

  it("does not echo the caller's id into the message", () => {
    expect(orphanToolResult([user, result("x".repeat(10_000))])?.message).not.toContain("xxx");
  });
});

describe("unansweredToolCalls", () => {
  it.each([
    ["a conversation without tools", [user]],
    ["every call answered, in any order", [user, calling("a", "b"), result("b"), result("a"), user]],
    ["answered calls in two turns", [user, calling("a"), result("a"), calling("b"), result("b")]],
  ])("finds none in %s", (_what, messages) => {
    expect(unansweredToolCalls(messages)).toBeUndefined();
  });

  it.each([
    [
      "a call answered by no tool message before the next user message",
      [user, calling("a", "b"), result("a"), user],
      1,
    ],
    ["calls the conversation ends on", [user, calling("a")], 1],
    ["a call answered only after another message", [user, calling("a"), user, result("a")], 1],
    ["a later turn's unanswered call", [user, calling("a"), result("a"), calling("b"), user], 3],
  ])("points at the tool_calls of %s", (_what, messages, at) => {
    expect(unansweredToolCalls(messages)).toEqual({
      path: ["messages", at, "tool_calls"],
      message: expect.stringContaining("must be followed by tool messages responding to each 'tool_call_id'"),
    });
  });
});

describe("emptyAssistantMessage", () => {
  const assistant = (fields: object) => ({ role: "assistant", ...fields });
  it.each([
    ["a turn of text", assistant({ content: "Hi" })],
    ["a turn of empty text, which OpenAI takes", assistant({ content: "" })],
    ["a turn of calls without text", calling("a")],
    ["a legacy function call", assistant({ content: null, function_call: { name: "f", arguments: "{}" } })],
    ["an echoed refusal", assistant({ content: null, refusal: "I can't help with that." })],
  ])("finds none in %s", (_what, message) => {
    expect(emptyAssistantMessage([user, message, user])).toBeUndefined();
  });

  it.each([
    ["null content and no calls", assistant({ content: null }), "expected a string, got null; "],
    [
      "null content and an empty list of calls",
      assistant({ content: null, tool_calls: [] }),
      "expected a string, got null; ",
    ],
    ["no content and null calls", assistant({ tool_calls: null }), ""],
    ["nothing at all", assistant({}), ""],
  ])("points at the content of a turn of %s", (_what, message, prefix) => {
    expect(emptyAssistantMessage([user, message, user])).toEqual({
      path: ["messages", 1, "content"],
      message: `${prefix}an assistant message needs 'content' or 'tool_calls'`,
    });
  });
});

describe("toolChoiceWithoutTools", () => {
  const tools = [{ type: "function", function: { name: "f" } }];
  const named: ToolChoice = { type: "function", function: { name: "f" } };
  const allowed: ToolChoice = {
    type: "allowed_tools",
    allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "f" } }] },
  };

  it.each<[string, ToolChoice]>([
    ["required", "required"],
    ["a named function", named],
    ["allowed tools", allowed],
  ])("refuses tool_choice %s without tools, as OpenAI does", (_what, tool_choice) => {
    for (const req of [{ tool_choice }, { tool_choice, tools: [] }])
      expect(toolChoiceWithoutTools(req)).toEqual({
        path: ["tool_choice"],
        message: "'tool_choice' is only allowed when 'tools' are specified",
      });
  });

  it.each<[string, { tools?: unknown[]; tool_choice?: ToolChoice }]>([
    ["no tool_choice", {}],
    ["auto, which asks for no call", { tool_choice: "auto" }],
    ["none, which forbids calls", { tool_choice: "none" }],
    ["required with tools", { tool_choice: "required", tools }],
    ["a named function with tools", { tool_choice: named, tools }],
  ])("accepts %s", (_what, req) => {
    expect(toolChoiceWithoutTools(req)).toBeUndefined();
  });
});

describe("toolChoiceOutsideTools", () => {
  const tools = [{ function: { name: "get_time" } }, { function: { name: "get_weather" } }];
  const named = (name: string): ToolChoice => ({ type: "function", function: { name } });
  const allowed = (...names: string[]): ToolChoice => ({
    type: "allowed_tools",
    allowed_tools: { mode: "auto", tools: names.map((name) => ({ type: "function", function: { name } })) },
  });

  it.each<[string, ToolChoice | undefined]>([
    ["no tool_choice", undefined],
    ["required", "required"],
    ["a named function among the tools", named("get_time")],
    ["allowed tools among the tools", allowed("get_weather", "get_time")],
  ])("accepts %s", (_what, tool_choice) => {
    expect(toolChoiceOutsideTools({ tools, tool_choice })).toBeUndefined();
  });

  it.each<[string, ToolChoice, Array<string | number>]>([
    ["a named function", named("delete_all"), ["tool_choice", "function", "name"]],
    [
      "the second allowed tool",
      allowed("get_time", "delete_all"),
      ["tool_choice", "allowed_tools", "tools", 1, "function", "name"],
    ],
  ])("points at %s when it is not in tools, without echoing the name", (_what, tool_choice, path) => {
    expect(toolChoiceOutsideTools({ tools, tool_choice })).toEqual({
      path,
      message: "'tool_choice' names a function that is not in 'tools'",
    });
  });
});

describe("topLogprobsWithoutLogprobs", () => {
  it.each([
    [{ top_logprobs: 3 }, true],
    [{ top_logprobs: 3, logprobs: false }, true],
    [{ top_logprobs: 3, logprobs: true }, false],
    [{ top_logprobs: 0 }, false],
    [{ top_logprobs: null }, false],
    [{}, false],
  ])("%j breaks the rule: %s", (req, breaks) => {
    expect(topLogprobsWithoutLogprobs(req)?.path).toEqual(breaks ? ["top_logprobs"] : undefined);
  });
});

describe("streamOptionsWithoutStream", () => {
  it.each([
    [{ stream_options: { include_usage: true } }, true],
    [{ stream: false, stream_options: {} }, true],
    [{ stream: true, stream_options: { include_usage: true } }, false],
    [{ stream: false, stream_options: null }, false],
    [{}, false],
  ])("%j breaks the rule: %s", (req, breaks) => {
    expect(streamOptionsWithoutStream(req)?.path).toEqual(breaks ? ["stream_options"] : undefined);
  });
});

describe("oversizedSchema", () => {
  /** An object schema with `n` properties, nested `depth` objects deep. */
  const schema = (n: number, depth = 0): Record<string, unknown> => ({
    type: "object",
    properties: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`p${i}`, depth > 0 && i === 0 ? schema(n, depth - 1) : {}]),
    ),
  });

  it.each([
    ["a tool of 5 000 properties", { tools: [{ function: { parameters: schema(5_000) } }] }],
    [
      "a response format of 2 500 properties at each of two levels",
      {
        response_format: { type: "json_schema", json_schema: { schema: schema(2_500, 1) } },
      },
    ],
    ["a request without schemas", {}],
  ])("finds none in %s", (_what, req) => {
    expect(oversizedSchema(req)).toBeUndefined();
  });

  it.each([
    [
      "a tool",
      { tools: [{ function: {} }, { function: { parameters: schema(5_001) } }] },
      ["tools", 1, "function", "parameters"],
    ],
    ["a legacy function", { functions: [{ parameters: schema(3_000, 1) }] }, ["functions", 0, "parameters"]],
    [
      "a response format, counting its definitions",
      {
        response_format: {
          type: "json_schema",
          json_schema: { schema: { $defs: { a: schema(4_000), b: schema(1_001) } } },
        },
      },
      ["response_format", "json_schema", "schema"],
    ],
  ])("points at %s declaring more than 5 000 properties", (_what, req, path) => {
    expect(oversizedSchema(req)).toEqual({
      path,
      message: "a schema may declare at most 5000 properties in all",
    });
  });
});
