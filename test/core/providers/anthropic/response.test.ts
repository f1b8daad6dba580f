import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../core/api/errors.ts";
import {
  anthropicFinishReason,
  fromAnthropicResponse,
} from "../../../../core/providers/anthropic/response.ts";

const META = { id: "chatcmpl-gw-1", created: 1_700_000_000, model: "claude-alias", provider: "anthropic" };

const message = (over: Record<string, unknown> = {}) => ({
  id: "msg_01XFDUDYJgAACzvnptvVoYEL",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5-20250929",
  content: [{ type: "text", text: "Hi there.", citations: null }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 4 },
  ...over,
});

describe("fromAnthropicResponse", () => {
  it("maps a text reply onto one OpenAI choice with the message id, response model and gateway time", () => {
    expect(fromAnthropicResponse(message(), META)).toEqual({
      id: "msg_01XFDUDYJgAACzvnptvVoYEL",
      object: "chat.completion",
      created: META.created,
      model: "claude-sonnet-4-5-20250929",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hi there.", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 4,
        total_tokens: 14,
        prompt_tokens_details: { cached_tokens: 0 },
      },
      system_fingerprint: null,
    });
  });

  it("concatenates text blocks, turns tool_use blocks into tool calls and returns the thinking with the first", () => {
    const content = [
      { type: "thinking", thinking: "Let me think.", signature: "sig" },
      { type: "redacted_thinking", data: "opaque" },
      { type: "text", text: "Checking " },
      { type: "text", text: "now." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "ping", input: {} },
    ];
    const r = fromAnthropicResponse(message({ content, stop_reason: "tool_use" }), META);
    expect(r.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Checking now.",
      refusal: null,
      tool_calls: [
        {
          id: "toolu_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          extra_content: {
            anthropic: {
              thinking_blocks: [
                { type: "thinking", thinking: "Let me think.", signature: "sig" },
                { type: "redacted_thinking", data: "opaque" },
              ],
            },
          },
        },
        { id: "toolu_2", type: "function", function: { name: "ping", arguments: "{}" } },
      ],
    });
    expect(r.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("returns interleaved thinking on the call each block preceded", () => {
    const first = { type: "thinking", thinking: "", signature: "sig-1" };
    const second = { type: "thinking", thinking: "", signature: "sig-2" };
    const content = [
      first,
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} },
      second,
      { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
    ];
    const calls = fromAnthropicResponse(message({ content, stop_reason: "tool_use" }), META).choices[0]
      ?.message.tool_calls;
    expect(calls?.map((t) => t.extra_content?.anthropic?.thinking_blocks)).toEqual([[first], [second]]);
  });

  it("keeps thinking out of an answer without tool calls", () => {
    const content = [
      { type: "thinking", thinking: "Hmm.", signature: "sig" },
      { type: "text", text: "42" },
    ];
    expect(fromAnthropicResponse(message({ content }), META).choices[0]?.message).toEqual({
      role: "assistant",
      content: "42",
      refusal: null,
    });
  });

  it("reports null content when the reply has no text", () => {
    const content = [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }];
    expect(fromAnthropicResponse(message({ content }), META).choices[0]?.message.content).toBeNull();
  });

  it("sums cache reads and writes into prompt tokens, reporting reads as cached and writes with their 1-hour part", () => {
    const usage = {
      input_tokens: 20,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
      output_tokens: 50,
      output_tokens_details: { thinking_tokens: 30 },
    };
    expect(fromAnthropicResponse(message({ usage }), META).usage).toEqual({
      prompt_tokens: 1320,
      completion_tokens: 50,
      total_tokens: 1370,
      prompt_tokens_details: {
        cached_tokens: 1000,
        cache_write_tokens: 300,
        cache_write_1h_tokens: 100,
      },
      completion_tokens_details: { reasoning_tokens: 30 },
    });
  });

  it("reports cache writes without a 1-hour part when Anthropic does not split them by TTL", () => {
    const usage = { input_tokens: 10, cache_creation_input_tokens: 500, output_tokens: 1 };
    expect(fromAnthropicResponse(message({ usage }), META).usage?.prompt_tokens_details).toEqual({
      cached_tokens: 0,
      cache_write_tokens: 500,
    });
  });

  it("reports 0 cached tokens when Anthropic's cache counts are null, as OpenAI always reports them", () => {
    const usage = {
      input_tokens: 5,
      output_tokens: 1,
      cache_read_input_tokens: null,
      output_tokens_details: null,
    };
    expect(fromAnthropicResponse(message({ usage }), META).usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 1,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it.each([
    [{ content: "not an array" }],
    [{ usage: { output_tokens: 1 } }],
    [{ content: [{ type: "tool_use", name: "f", input: {} }] }],
    [{ content: [{ type: "text" }] }],
  ])("refuses a body that breaks the documented shape (%j) with a 502", (over) => {
    const run = () => fromAnthropicResponse(message(over), META);
    expect(run).toThrow(GatewayError);
    expect(run).toThrow(expect.objectContaining({ status: 502, code: "upstream_malformed" }));
  });
});

describe("a refused Anthropic answer", () => {
  it("carries its text as the message's refusal, not its content, and stops, as Chat Completions does", () => {
    const refused = message({
      content: [{ type: "text", text: "I can't help with that.", citations: null }],
      stop_reason: "refusal",
    });
    expect(fromAnthropicResponse(refused, META).choices[0]).toMatchObject({
      message: { content: null, refusal: "I can't help with that." },
      // `content_filter` would make the SDK's `parse` throw before it read the refusal.
      finish_reason: "stop",
    });
  });
});

describe("anthropicFinishReason", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
    ["model_context_window_exceeded", "length"],
    ["something_new", "stop"],
    [null, "stop"],
  ])("maps %s to %s", (anthropic, openai) => {
    expect(anthropicFinishReason(anthropic)).toBe(openai);
  });
});
