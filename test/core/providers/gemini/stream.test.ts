import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../../../core/api/chat-response.ts";
import type { SseEvent } from "../../../../core/api/sse-parser.ts";
import {
  endGeminiStream,
  type GeminiStreamState,
  initGeminiStream,
  reduceGeminiStream,
} from "../../../../core/providers/gemini/stream.ts";
import type { StreamFault } from "../../../../core/providers/types.ts";
import { meta, transcript, transcriptText } from "./helpers.ts";

/**
 * Feeds a whole transcript through the reducer, as the router does, stopping at the first fault; a
 * finished stream's end adds its trailing chunks.
 */
function run(events: SseEvent[]): {
  chunks: ChatCompletionChunk[];
  state: GeminiStreamState;
  fault?: StreamFault;
} {
  let state = initGeminiStream(meta);
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) {
    const step = reduceGeminiStream(event, state);
    chunks.push(...step.out);
    state = step.state;
    if (step.fault) return { chunks, state, fault: step.fault };
  }
  if (state.finished) chunks.push(...endGeminiStream(state));
  return { chunks, state };
}

const deltas = (chunks: ChatCompletionChunk[]) => chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
const text = (chunks: ChatCompletionChunk[]) =>
  deltas(chunks)
    .map((d) => d.content ?? "")
    .join("");
const finishes = (chunks: ChatCompletionChunk[]) =>
  chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null);

describe("Gemini stream reducer", () => {
  it("reads Gemini's real CRLF framing as one event per chunk", () => {
    expect(transcriptText("gemini-text.sse")).toMatch(/^data: \{.*\}\r\n\r\ndata: /);
    expect(transcript("gemini-text.sse")).toHaveLength(3);
  });

  it("streams plain text over several chunks, announcing the role first, then finish and usage", () => {
    const { chunks, state } = run(transcript("gemini-text.sse"));
    expect(deltas(chunks).slice(0, 2)).toEqual([{ role: "assistant" }, { content: "The sky" }]);
    expect(text(chunks)).toBe("The sky is blue because air scatters blue light.");
    expect(finishes(chunks)).toEqual(["stop"]);
    expect(chunks.at(-1)).toEqual({
      id: "Wm0kaZ7xO4-XkdUPzN7o-AQ",
      object: "chat.completion.chunk",
      created: meta.created,
      model: "gemini-2.5-flash-lite",
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 10, total_tokens: 19 },
    });
    expect(state.finished).toBe(true);
  });

  it("emits each whole function call as one tool-call delta with a running index (and its signature)", () => {
    const { chunks } = run(transcript("gemini-parallel-tools.sse"));
    const calls = deltas(chunks).flatMap((d) => d.tool_calls ?? []);
    const made = expect.stringMatching(/^call_[0-9a-f]{24}$/);
    expect(calls).toEqual([
      {
        index: 0,
        id: made,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        extra_content: { google: { thought_signature: "CiQBcsjafE2k" } },
      },
      {
        index: 1,
        id: made,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Tokyo"}' },
      },
      { index: 2, id: made, type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
    expect(new Set(calls.map((t) => t.id)).size).toBe(3);
    expect(deltas(chunks)[0]?.role).toBe("assistant");
    // One call a chunk, though Gemini sent the first two in one event: the SDK's stream helpers close a
    // call's arguments when the next index appears.
    expect(deltas(chunks).map((d) => d.tool_calls?.length ?? 0)).toEqual([0, 1, 1, 1, 0]);
    // An answer of tool calls only: no content, so the SDKs' final message says null, as OpenAI's does.
    expect(deltas(chunks).some((d) => "content" in d)).toBe(false);
    expect(finishes(chunks)).toEqual(["tool_calls"]);
  });

  it("skips thought parts and reports cached and reasoning tokens from the latest usage", () => {
    const { chunks, state } = run(transcript("gemini-thinking.sse"));
    expect(deltas(chunks)[0]).toEqual({ role: "assistant" });
    expect(text(chunks)).toBe("Yes.");
    expect(state.usage).toEqual({
      prompt_tokens: 2051,
      completion_tokens: 82,
      total_tokens: 2133,
      prompt_tokens_details: { cached_tokens: 2048 },
      completion_tokens_details: { reasoning_tokens: 80 },
    });
    expect(chunks.at(-1)?.usage).toEqual(state.usage);
  });

  it("maps MAX_TOKENS to finish_reason length", () => {
    expect(finishes(run(transcript("gemini-max-tokens.sse")).chunks)).toEqual(["length"]);
  });

  it("ends a blocked prompt with content_filter", () => {
    const { chunks, state } = run(transcript("gemini-blocked.sse"));
    expect(finishes(chunks)).toEqual(["content_filter"]);
    expect(state).toMatchObject({ finished: true, usage: { prompt_tokens: 12, completion_tokens: 0 } });
  });

  it("turns an error payload into a fault carrying Google's status, leaving the stream unfinished", () => {
    const { chunks, state, fault } = run(transcript("gemini-error.sse"));
    expect(text(chunks)).toBe("Once upon");
    expect(fault).toEqual({
      message: "The model is overloaded. Please try again later.",
      code: "UNAVAILABLE",
      declared: true,
    });
    expect(state.finished).toBe(false);
  });

  it.each([
    ["malformed JSON", "{not json", "upstream_malformed"],
    ["an error without a status", '{"error":{"code":500,"message":"boom"}}', "upstream_error"],
  ])("faults on %s", (_, data, code) => {
    expect(reduceGeminiStream({ event: undefined, data }, initGeminiStream(meta)).fault?.code).toBe(code);
  });

  it("sends the usage that comes after the finish reason, in a chunk of its own, as the trailing usage", () => {
    const event = (body: unknown): SseEvent => ({ event: undefined, data: JSON.stringify(body) });
    const { chunks } = run([
      event({
        candidates: [{ content: { parts: [{ text: "Hello" }] } }],
        usageMetadata: { promptTokenCount: 20 },
      }),
      event({ candidates: [{ content: { parts: [{ text: " there" }] }, finishReason: "STOP" }] }),
      event({ usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 2, totalTokenCount: 22 } }),
    ]);
    const usageChunks = chunks.filter((c) => c.usage);
    expect(usageChunks).toHaveLength(1);
    expect(usageChunks[0]).toMatchObject({ choices: [], usage: { prompt_tokens: 20, completion_tokens: 2 } });
    expect(chunks.at(-1)).toBe(usageChunks[0]);
  });
});
