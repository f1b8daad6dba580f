import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../../core/api/chat-response.ts";
import { parseSseTranscript, type SseEvent } from "../../../core/api/sse-parser.ts";
import { chatAdapters } from "../../../core/providers/adapters.ts";
import type { BaseStreamState, ChatAdapter, StreamStep } from "../../../core/providers/types.ts";

const META = { id: "chatcmpl-gw-1", created: 1_700_000_000, model: "alias", provider: "p" };
const events = (name: string): SseEvent[] =>
  parseSseTranscript(readFileSync(new URL(`../../fixtures/transcripts/${name}`, import.meta.url), "utf8"));
const sse = (type: string, body: object): SseEvent => ({
  event: type,
  data: JSON.stringify({ type, ...body }),
});

/** The chunks (and fault) of `events` reduced in turn from `state`, as the router feeds them. */
function rest(adapter: ChatAdapter<BaseStreamState>, state: BaseStreamState, list: SseEvent[]) {
  const out: Array<ChatCompletionChunk[] | StreamStep<BaseStreamState>["fault"]> = [];
  let s = state;
  for (const e of list) {
    const step = adapter.reduce(e, s);
    out.push(step.out, step.fault);
    s = step.state;
  }
  return { out, end: adapter.endStream?.(s) ?? [], usage: s.usage, finished: s.finished };
}

const geminiCall = (id?: string, finishReason?: string): SseEvent => ({
  event: undefined,
  data: JSON.stringify({
    candidates: [
      {
        content: { parts: [{ functionCall: { name: "f", args: {}, ...(id ? { id } : {}) } }] },
        finishReason,
      },
    ],
  }),
});

describe("the stream reducers are pure: a state reads as it was made, whatever is reduced from it later", () => {
  // Detours that set what the rest of each stream reads: the block indices its tool, thinking and
  // server-tool blocks take, and the call ids it gives; a state that saw them would answer differently.
  const detour = {
    anthropic: Array.from({ length: 6 }, (_, i) => [
      sse("content_block_start", {
        index: i,
        content_block: { type: "tool_use", id: `toolu_x${i}`, name: "other", input: {} },
      }),
      sse("content_block_stop", { index: i }),
      sse("content_block_start", { index: i, content_block: { type: "thinking", thinking: "" } }),
      sse("content_block_delta", { index: i, delta: { type: "thinking_delta", thinking: "detour" } }),
      sse("content_block_start", {
        index: i,
        content_block: { type: "server_tool_use", id: `srv${i}`, name: "web", input: {} },
      }),
    ]).flat(),
    gemini: [geminiCall("b"), geminiCall("a")],
  } as const;

  it.each([
    ["anthropic", "anthropic-thinking-tools.sse", events("anthropic-thinking-tools.sse")],
    ["anthropic", "anthropic-interleaved-tools.sse", events("anthropic-interleaved-tools.sse")],
    ["anthropic", "anthropic-parallel-tools.sse", events("anthropic-parallel-tools.sse")],
    [
      "anthropic",
      "calls of tools without parameters",
      [
        sse("message_start", {
          message: { id: "m", model: "c", usage: { input_tokens: 9, output_tokens: 1 } },
        }),
        ...[0, 1].flatMap((i) => [
          sse("content_block_start", {
            index: i,
            content_block: { type: "tool_use", id: `toolu_${i}`, name: "now", input: {} },
          }),
          sse("content_block_stop", { index: i }),
        ]),
        sse("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 12 } }),
        sse("message_stop", {}),
      ],
    ],
    ["gemini", "gemini-parallel-tools.sse", events("gemini-parallel-tools.sse")],
    ["gemini", "gemini-thinking.sse", events("gemini-thinking.sse")],
    [
      "gemini",
      "calls that give their ids, one twice",
      [geminiCall("a"), geminiCall("b"), geminiCall("a", "STOP")],
    ],
  ] as const)(
    "%s, over %s: every state, stepped again after a detour, gives the same rest",
    (kind, _, list) => {
      const adapter = chatAdapters[kind];
      const states: BaseStreamState[] = [adapter.initStream(META)];
      for (const e of list) states.push(adapter.reduce(e, states.at(-1)!).state);
      const whole = rest(adapter, states[0]!, [...list]);
      states.forEach((state, i) => {
        rest(adapter, state, [...detour[kind], ...list.slice(i)]);
        const again = rest(adapter, state, list.slice(i));
        expect(again.out).toEqual(whole.out.slice(2 * i));
        expect(again.end).toEqual(whole.end);
        expect([again.usage, again.finished]).toEqual([whole.usage, whole.finished]);
      });
    },
  );
});

describe("the stream reducers take linear time in the blocks of a stream", () => {
  // n² copies of growing state made 20 000 blocks cost 1–5 s; linear, 60 000 take about a second.
  const BLOCKS = 60_000;
  const anthropicBlocks = (block: (i: number) => object, delta?: (i: number) => object) => [
    sse("message_start", { message: { id: "m", model: "c", usage: { input_tokens: 1, output_tokens: 1 } } }),
    ...Array.from({ length: BLOCKS }, (_, i) => [
      sse("content_block_start", { index: i, content_block: block(i) }),
      ...(delta ? [sse("content_block_delta", { index: i, delta: delta(i) })] : []),
      sse("content_block_stop", { index: i }),
    ]).flat(),
  ];

  it.each([
    [
      "Anthropic tool calls",
      "anthropic",
      anthropicBlocks((i) => ({ type: "tool_use", id: `t${i}`, name: "f", input: {} })),
    ],
    [
      "Anthropic thinking blocks",
      "anthropic",
      anthropicBlocks(
        () => ({ type: "thinking", thinking: "" }),
        () => ({ type: "thinking_delta", thinking: "a" }),
      ),
    ],
    [
      "Anthropic tool calls that all take block index 0",
      "anthropic",
      anthropicBlocks((i) => ({ type: "tool_use", id: `t${i}`, name: "f", input: { n: i } })).map((e) =>
        e.data.includes('"index"') ? { ...e, data: e.data.replace(/"index":\d+/, '"index":0') } : e,
      ),
    ],
    [
      "Anthropic server-tool blocks",
      "anthropic",
      anthropicBlocks((i) => ({ type: "server_tool_use", id: `s${i}`, name: "web", input: {} })),
    ],
    [
      "Gemini function calls",
      "gemini",
      Array.from({ length: BLOCKS }, () => ({
        event: undefined,
        data: JSON.stringify({
          candidates: [{ content: { parts: [{ functionCall: { name: "f", args: {} } }] } }],
        }),
      })),
    ],
  ] as const)("%s", (_, kind, list) => {
    const adapter = chatAdapters[kind];
    const started = performance.now();
    const { out } = rest(adapter, adapter.initStream(META), list);
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(out.filter((o) => o === undefined)).toHaveLength(list.length);
  });
});
