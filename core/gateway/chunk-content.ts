import type { ChatCompletionChunk } from "../api/chat-response.ts";

const isBlank = (v: unknown): boolean => v == null || v === "" || (Array.isArray(v) && v.length === 0);

/**
 * Whether a chunk carries something the caller must see: text, a refusal, a tool or function call, or
 * any other delta field beyond the role. A role-only delta (how OpenAI and Anthropic open a stream), or
 * a finish reason or usage with nothing before it, says nothing yet, so it need not commit the response.
 */
export function carriesContent(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.some((c) => Object.entries(c.delta).some(([k, v]) => k !== "role" && !isBlank(v)));
}
