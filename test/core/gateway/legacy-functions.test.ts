import { describe, expect, it } from "vitest";
import { chatRequestInput } from "../../../core/api/chat-request-input.ts";
import type { ChatCompletion, ChatCompletionChunk } from "../../../core/api/chat-response.ts";
import {
  answersInLegacyForm,
  fromLegacyFunctions,
  toLegacyChunk,
  toLegacyCompletion,
  withLegacyAnswers,
} from "../../../core/gateway/legacy-functions.ts";

const weather = { name: "get_weather", parameters: { type: "object", properties: {} } };
const input = (over: Record<string, unknown>) =>
  chatRequestInput.parse({ model: "m", messages: [{ role: "user", content: "Weather?" }], ...over });
const refusal = (over: Record<string, unknown>) => {
  try {
    fromLegacyFunctions(input(over));
  } catch (err) {
    return err;
  }
  throw new Error("expected a refusal");
};

describe("fromLegacyFunctions", () => {
  it("pairs 40 000 calls with their results in linear time, oldest call first", () => {
    // Copying the list of open calls per call took 14 s of one process's CPU for a 5 MB history.
    const n = 40_000;
    const calls = Array.from({ length: n }, () => ({
      role: "assistant",
      content: null,
      function_call: { name: "f", arguments: "{}" },
    }));
    const results = Array.from({ length: n }, (_, i) => ({ role: "function", name: "f", content: `r${i}` }));
    const req = input({ functions: [{ name: "f" }] });
    const started = performance.now();
    const out = fromLegacyFunctions({
      ...req,
      messages: [req.messages[0]!, ...calls, ...results],
    } as typeof req);
    // Linear, this is a few tens of milliseconds; quadratic, it was seconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    const first = out.messages[1] as { tool_calls: Array<{ id: string }> };
    expect(out.messages[n + 1]).toMatchObject({
      role: "tool",
      tool_call_id: first.tool_calls[0]!.id,
      content: "r0",
    });
  });

  it("leaves a request without legacy fields as it is", () => {
    const req = input({ tools: [{ type: "function", function: weather }] });
    expect(fromLegacyFunctions(req)).toBe(req);
    expect(answersInLegacyForm(req)).toBe(false);
  });

  it.each([
    [undefined, undefined],
    ["auto", "auto"],
    ["none", "none"],
    [{ name: "get_weather" }, { type: "function", function: { name: "get_weather" } }],
  ])("takes functions as tools, and function_call %j as tool_choice %j", (call, choice) => {
    const req = fromLegacyFunctions(input({ functions: [weather], function_call: call }));
    expect(req.tools).toEqual([{ type: "function", function: weather }]);
    expect(req.tool_choice).toEqual(choice);
    expect(req).not.toHaveProperty("functions");
    expect(req).not.toHaveProperty("function_call");
  });

  it("turns a history's calls into tool calls, each result answering the oldest open call of its name", () => {
    const call = (city: string) => ({
      role: "assistant",
      content: null,
      function_call: { name: "get_weather", arguments: JSON.stringify({ city }) },
    });
    const req = fromLegacyFunctions(
      input({
        functions: [weather],
        messages: [
          { role: "user", content: "Paris, then Rome?" },
          call("Paris"),
          call("Rome"),
          { role: "function", name: "get_weather", content: "21" },
          { role: "function", name: "get_weather", content: null },
        ],
      }),
    );
    expect(req.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_fn_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_fn_2",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_fn_1", content: "21" },
      { role: "tool", tool_call_id: "call_fn_2", content: "" },
    ]);
  });

  it.each([
    [
      "functions beside tools",
      { functions: [weather], tools: [{ type: "function", function: weather }] },
      "functions",
    ],
    ["function_call without functions", { function_call: "auto" }, "function_call"],
    [
      "function_call naming a function that is not in functions",
      { functions: [weather], function_call: { name: "other" } },
      "function_call.name",
    ],
    [
      "function_call beside tool_choice",
      { functions: [weather], function_call: "auto", tool_choice: "auto" },
      "function_call",
    ],
    [
      "a function result no call asked for",
      {
        messages: [
          { role: "user", content: "?" },
          { role: "function", name: "get_weather", content: "21" },
        ],
      },
      "messages[1].name",
    ],
    [
      "an assistant message with both forms",
      {
        messages: [
          { role: "user", content: "?" },
          {
            role: "assistant",
            content: null,
            function_call: { name: "f", arguments: "{}" },
            tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "c", content: "done" },
        ],
      },
      "messages[1].function_call",
    ],
  ])("refuses %s with 400 naming %s", (_, over, param) => {
    expect(refusal(over)).toMatchObject({ status: 400, param });
  });
});

describe("the answer in the legacy form", () => {
  const completion = (toolCalls: number): ChatCompletion => ({
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: null,
          ...(toolCalls > 0
            ? {
                tool_calls: Array.from({ length: toolCalls }, (_, i) => ({
                  id: `t${i}`,
                  type: "function" as const,
                  function: { name: `f${i}`, arguments: "{}" },
                })),
              }
            : {}),
        },
        finish_reason: toolCalls > 0 ? "tool_calls" : "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });

  it("gives the first call as function_call, finishing with function_call", () => {
    const choice = toLegacyCompletion(completion(2)).choices[0]!;
    expect(choice.message).toEqual({
      role: "assistant",
      content: null,
      refusal: null,
      function_call: { name: "f0", arguments: "{}" },
    });
    expect(choice.finish_reason).toBe("function_call");
  });

  it("leaves an answer without calls as it is", () => {
    expect(toLegacyCompletion(completion(0)).choices[0]).toEqual(completion(0).choices[0]);
  });

  const chunk = (
    delta: ChatCompletionChunk["choices"][number]["delta"],
    finish: "tool_calls" | null = null,
  ) => ({
    id: "c",
    object: "chat.completion.chunk" as const,
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });

  it.each([
    [
      "the call's opening",
      {
        tool_calls: [
          { index: 0, id: "t0", type: "function" as const, function: { name: "f", arguments: "" } },
        ],
      },
      { function_call: { name: "f", arguments: "" } },
    ],
    [
      "its arguments",
      { tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] },
      { function_call: { arguments: '{"a"' } },
    ],
    ["a second call's pieces, dropped", { tool_calls: [{ index: 1, function: { arguments: "{}" } }] }, {}],
    ["text", { content: "hi" }, { content: "hi" }],
  ])("streams %s in the legacy form", (_, delta, legacy) => {
    expect(toLegacyChunk(chunk(delta)).choices[0]?.delta).toEqual(legacy);
  });

  it("finishes a stream with function_call", () => {
    expect(toLegacyChunk(chunk({}, "tool_calls")).choices[0]?.finish_reason).toBe("function_call");
  });

  it("leaves out of the stream a chunk the legacy form empties (a second call's piece)", () => {
    const adapter = withLegacyAnswers({
      toRequest: () => {
        throw new Error("unused");
      },
      fromResponse: () => {
        throw new Error("unused");
      },
      initStream: (meta) => ({ meta, usage: undefined, finished: false }),
      reduce: (_event, state) => ({
        out: [
          chunk({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
          chunk({ content: "hi" }),
          chunk({}, "tool_calls"),
        ],
        state,
      }),
    });
    const state = adapter.initStream({ id: "c", created: 1, model: "m", provider: "openai" });
    const out = adapter.reduce({ event: undefined, data: "{}" }, state).out;
    expect(out.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ content: "hi" }, null],
      [{}, "function_call"],
    ]);
  });
});
