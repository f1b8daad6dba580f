import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSseTranscript } from "../../../../core/api/sse-parser.ts";
import { initAnthropicStream, reduceAnthropicStream } from "../../../../core/providers/anthropic/stream.ts";
import { META, reassemble, replay } from "./transcript.ts";

describe("the Anthropic stream reducer, over recorded transcripts", () => {
  it("turns a plain text reply into one assistant message that ends with stop and usage", () => {
    const { chunks, state, fault } = replay("anthropic-text.sse");
    expect(fault).toBeUndefined();
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant" });
    const msg = reassemble(chunks);
    expect(msg).toMatchObject({
      role: "assistant",
      content: "Hello, world! ✨",
      toolCalls: [],
      finishReason: "stop",
    });
    expect(msg.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 9,
      total_tokens: 21,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(state.finished).toBe(true);
    expect(state.usage).toEqual(msg.usage);
  });

  it("takes message_delta's usage as the final count, and message_start's as not yet", () => {
    let state = initAnthropicStream(META);
    const seen: Array<boolean | undefined> = [];
    const text = readFileSync(
      new URL("../../../fixtures/transcripts/anthropic-text.sse", import.meta.url),
      "utf8",
    );
    for (const event of parseSseTranscript(text)) {
      state = reduceAnthropicStream(event, state).state;
      if (event.event === "message_start" || event.event === "message_delta") seen.push(state.usageFinal);
    }
    expect(seen).toEqual([undefined, true]);
  });

  it("stamps every chunk with the Anthropic message id, the gateway's created time and the reported model", () => {
    const { chunks } = replay("anthropic-text.sse");
    for (const c of chunks) {
      expect(c).toMatchObject({
        id: "msg_01XFDUDYJgAACzvnptvVoYEL",
        object: "chat.completion.chunk",
        created: META.created,
        model: "claude-sonnet-4-5-20250929",
      });
    }
  });

  it("ends with a finish chunk and then a usage chunk without choices", () => {
    const { chunks } = replay("anthropic-text.sse");
    const [finish, usage] = chunks.slice(-2);
    expect(finish?.choices).toEqual([{ index: 0, delta: {}, finish_reason: "stop", logprobs: null }]);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage?.completion_tokens).toBe(9);
  });

  it("numbers two parallel tool calls 0 and 1 by tool order, not by Anthropic block index", () => {
    const { chunks, fault } = replay("anthropic-parallel-tools.sse");
    expect(fault).toBeUndefined();
    const indices = chunks.flatMap((c) =>
      c.choices.flatMap((ch) => (ch.delta.tool_calls ?? []).map((t) => t.index)),
    );
    expect(new Set(indices)).toEqual(new Set([0, 1]));
    const msg = reassemble(chunks);
    expect(msg.content).toBe("Let me check both.");
    expect(msg.toolCalls).toEqual([
      {
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        arguments: '{"location": "San Francisco, CA", "unit": "celsius"}',
      },
      {
        id: "toolu_01CB8v9yGr7MSxGZ8kWQ3MPd",
        name: "get_time",
        arguments: '{"timezone": "America/Los_Angeles"}',
      },
    ]);
    expect(msg.finishReason).toBe("tool_calls");
  });

  it("opens each tool call with id, type, name and empty arguments, then streams only arguments", () => {
    const { chunks } = replay("anthropic-parallel-tools.sse");
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls[0]).toEqual({
      index: 0,
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(calls.filter((t) => t.id !== undefined)).toHaveLength(2);
    expect(
      calls.filter((t) => t.id === undefined).every((t) => Object.keys(t.function).join() === "arguments"),
    ).toBe(true);
  });

  it("skips thinking and signature deltas but reports the thinking tokens as reasoning tokens", () => {
    const { chunks, fault } = replay("anthropic-thinking.sse");
    expect(fault).toBeUndefined();
    const msg = reassemble(chunks);
    expect(msg.content).toBe("27 × 453 = 12,231");
    expect(msg.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 95 });
    expect(msg.usage?.completion_tokens).toBe(120);
  });

  it("returns the thinking that led to the tool calls on the first call's opening delta, not as text", () => {
    const { chunks, fault } = replay("anthropic-thinking-tools.sse");
    expect(fault).toBeUndefined();
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: "toolu_01A09q90qw90lq917835lq9",
      type: "function",
      function: { name: "get_weather", arguments: "" },
      extra_content: {
        anthropic: {
          thinking_blocks: [
            {
              type: "thinking",
              thinking: "I need the weather in Paris first.",
              signature: "EqQBCgIYAhIMthinkSig0001",
            },
            {
              type: "redacted_thinking",
              data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP",
            },
          ],
        },
      },
    });
    const msg = reassemble(chunks);
    expect(msg.content).toBe("");
    expect(msg.finishReason).toBe("tool_calls");
  });

  it("returns interleaved thinking on the call each block preceded (adaptive thinking, text omitted)", () => {
    const { chunks, fault } = replay("anthropic-interleaved-tools.sse");
    expect(fault).toBeUndefined();
    const opened = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((t) => t.id);
    expect(opened.map((t) => t.extra_content?.anthropic?.thinking_blocks)).toEqual([
      [{ type: "thinking", thinking: "", signature: "EqQBCgIYAhIMinterleaved01" }],
      [{ type: "thinking", thinking: "", signature: "EqQBCgIYAhIMinterleaved02" }],
    ]);
  });

  it("reports an error event mid-stream as a fault carrying Anthropic's error type, after the text so far", () => {
    const { chunks, state, fault } = replay("anthropic-error.sse");
    expect(fault).toEqual({ message: "Overloaded", code: "overloaded_error", declared: true });
    expect(reassemble(chunks).content).toBe("Partial ans");
    expect(state.finished).toBe(false);
  });

  it("reads a CRLF transcript and counts cache reads and writes into prompt tokens", () => {
    const { chunks, state } = replay("anthropic-cache-usage.sse");
    const msg = reassemble(chunks);
    expect(msg.content).toBe("Cached reply.");
    expect(msg.finishReason).toBe("length");
    // message_delta restated the input counts (cache read 2048), overriding message_start's 1800.
    expect(msg.usage).toEqual({
      prompt_tokens: 21 + 188 + 2048,
      completion_tokens: 16,
      total_tokens: 21 + 188 + 2048 + 16,
      prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 188 },
    });
    expect(state.finished).toBe(true);
  });
});

describe("the Anthropic stream reducer, event by event", () => {
  const start = initAnthropicStream(META);
  const event = (data: unknown, name?: string) => ({ event: name, data: JSON.stringify(data) });

  it("emits nothing for ping and keeps the state", () => {
    const step = reduceAnthropicStream(event({ type: "ping" }, "ping"), start);
    expect(step).toEqual({ out: [], state: start });
  });

  it("reports data that is not JSON as an upstream_malformed fault", () => {
    const step = reduceAnthropicStream({ event: "content_block_delta", data: "{not json" }, start);
    expect(step.fault?.code).toBe("upstream_malformed");
    expect(step.out).toEqual([]);
  });

  it("reports an event that breaks the documented shape as an upstream_malformed fault", () => {
    const step = reduceAnthropicStream(event({ type: "message_start", message: { id: 7 } }), start);
    expect(step.fault?.code).toBe("upstream_malformed");
  });

  it("reports tool input for a block that never started as a fault", () => {
    const delta = { type: "input_json_delta", partial_json: "{}" };
    const step = reduceAnthropicStream(event({ type: "content_block_delta", index: 3, delta }), start);
    expect(step.fault?.code).toBe("upstream_malformed");
  });

  it("falls back to the gateway's id and model when message_start never came", () => {
    const delta = { type: "text_delta", text: "hi" };
    const step = reduceAnthropicStream(event({ type: "content_block_delta", index: 0, delta }), start);
    expect(step.out[0]).toMatchObject({
      id: META.id,
      model: META.model,
      choices: [{ delta: { content: "hi" } }],
    });
  });

  it("ignores event types it does not know", () => {
    const step = reduceAnthropicStream(event({ type: "future_event", x: 1 }, "future_event"), start);
    expect(step).toEqual({ out: [], state: start });
  });

  describe("a tool call without arguments", () => {
    const tool = (index: number, input: unknown = {}) =>
      event({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: `toolu_${index}`, name: `tool_${index}`, input },
      });
    const json = (index: number, partial_json: string) =>
      event({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
    const stop = (index: number) => event({ type: "content_block_stop", index });
    /** The arguments each call ends with, as an OpenAI client accumulates them. */
    const argumentsOf = (events: ReturnType<typeof event>[]) => {
      let state = start;
      const chunks = events.flatMap((e) => {
        const step = reduceAnthropicStream(e, state);
        expect(step.fault).toBeUndefined();
        state = step.state;
        return step.out;
      });
      return reassemble(chunks).toolCalls.map((t) => t.arguments);
    };

    it.each([
      ["no input_json_delta at all", [tool(0), stop(0)]],
      ["one empty partial_json", [tool(0), json(0, ""), stop(0)]],
      ["several empty partial_json", [tool(0), json(0, ""), json(0, ""), stop(0)]],
    ])(
      "streams arguments '{}', as OpenAI does and as the unstreamed answer has them, after %s",
      (_, events) => {
        expect(argumentsOf(events)).toEqual(["{}"]);
      },
    );

    it.each([
      ["streamed in pieces", [tool(0), json(0, ""), json(0, '{"city"'), json(0, ':"Paris"}'), stop(0)]],
      ["given whole at the start", [tool(0, { city: "Paris" }), stop(0)]],
    ])("leaves the arguments of a call that has some as they came, %s", (_, events) => {
      expect(argumentsOf(events)).toEqual(['{"city":"Paris"}']);
    });

    it("sends '{}' to the call without arguments only, beside a text block and a call with some", () => {
      const text = event({
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      });
      const events = [text, stop(0), tool(1), json(1, ""), stop(1), tool(2), json(2, '{"a":1}'), stop(2)];
      expect(argumentsOf(events)).toEqual(["{}", '{"a":1}']);
    });

    it.each([
      [
        "one with arguments, then one without",
        [tool(1), json(1, '{"a":1}'), stop(1), tool(1), stop(1)],
        ['{"a":1}', "{}"],
      ],
      [
        "one without, then one given its arguments whole",
        [tool(1), stop(1), tool(1, { a: 1 }), stop(1)],
        ["{}", '{"a":1}'],
      ],
      [
        "one with arguments, then a server tool's call with its own input",
        [
          tool(1),
          json(1, '{"a":1}'),
          stop(1),
          event({
            type: "content_block_start",
            index: 1,
            content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
          }),
          json(1, '{"query":"x"}'),
          stop(1),
        ],
        ['{"a":1}'],
      ],
    ])("tells two calls apart that a provider opened at one block index, %s", (_, events, expected) => {
      expect(argumentsOf(events)).toEqual(expected);
    });
  });
});

describe("the Anthropic stream reducer, with blocks an OpenAI answer has no place for", () => {
  it("skips a server tool's call, its input deltas and its result, and goes on with the text", () => {
    const events: Array<[string, object]> = [
      [
        "message_start",
        { message: { id: "msg_1", model: "claude", usage: { input_tokens: 10, output_tokens: 1 } } },
      ],
      ["content_block_start", { index: 0, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { index: 0, delta: { type: "text_delta", text: "I'll search." } }],
      ["content_block_stop", { index: 0 }],
      [
        "content_block_start",
        {
          index: 1,
          content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
        },
      ],
      [
        "content_block_delta",
        { index: 1, delta: { type: "input_json_delta", partial_json: '{"query": "paris"}' } },
      ],
      ["content_block_stop", { index: 1 }],
      [
        "content_block_start",
        {
          index: 2,
          content_block: { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
        },
      ],
      ["content_block_stop", { index: 2 }],
      ["content_block_start", { index: 3, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { index: 3, delta: { type: "text_delta", text: " It is sunny." } }],
      ["content_block_stop", { index: 3 }],
      ["message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 30 } }],
      ["message_stop", {}],
    ];
    let state = initAnthropicStream(META);
    const chunks = [];
    for (const [type, payload] of events) {
      const step = reduceAnthropicStream({ event: type, data: JSON.stringify({ type, ...payload }) }, state);
      expect(step.fault).toBeUndefined();
      chunks.push(...step.out);
      state = step.state;
    }
    expect(reassemble(chunks)).toMatchObject({ content: "I'll search. It is sunny.", finishReason: "stop" });
  });

  it("still refuses tool input for a block that was never opened", () => {
    const state = initAnthropicStream(META);
    const data = JSON.stringify({
      type: "content_block_delta",
      index: 7,
      delta: { type: "input_json_delta", partial_json: "{}" },
    });
    expect(reduceAnthropicStream({ event: "content_block_delta", data }, state).fault?.code).toBe(
      "upstream_malformed",
    );
  });
});
