import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk, ChunkDelta } from "../../../core/api/chat-response.ts";
import { carriesContent } from "../../../core/gateway/chunk-content.ts";
import { withDelta } from "../../fixtures/chunks.ts";

describe("carriesContent: where a stream commits to its caller", () => {
  it.each([
    ["a role-only delta", withDelta({ role: "assistant" }), false],
    [
      "OpenAI's opener (role, empty content, null refusal)",
      withDelta({ role: "assistant", content: "", refusal: null }),
      false,
    ],
    ["a finish reason alone", withDelta({}, "stop"), false],
    ["a usage chunk without choices", { ...withDelta({}), choices: [] }, false],
    ["text", withDelta({ content: "Hi" }), true],
    ["the role with the first text", withDelta({ role: "assistant", content: "Hi" }), true],
    ["a refusal", withDelta({ refusal: "I can't" }), true],
    ["a tool call", withDelta({ tool_calls: [{ index: 0, function: { arguments: "" } }] }), true],
    ["a legacy function call", withDelta({ function_call: { name: "f", arguments: "" } }), true],
    ["an empty tool-call list", withDelta({ tool_calls: [] }), false],
  ])("%s: %s", (_what, chunk, expected) => {
    expect(carriesContent(chunk as ChatCompletionChunk)).toBe(expected);
  });

  it("counts a delta field it does not know yet as content: holding back is safe, dropping is not", () => {
    const delta = { reasoning_content: "thinking…" } as unknown as ChunkDelta;
    expect(carriesContent(withDelta(delta))).toBe(true);
  });
});
