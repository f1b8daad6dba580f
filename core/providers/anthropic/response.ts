import type {
  AnthropicThinkingBlock,
  ChatCompletion,
  FinishReason,
  ResponseToolCall,
  ToolCallExtraContent,
  Usage,
} from "../../api/chat-response.ts";
import { usage } from "../../api/chat-response.ts";
import type { ResponseMeta } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { type AnthropicUsage, anthropicMessage } from "./wire.ts";

/**
 * Anthropic counts cached input apart from `input_tokens`; OpenAI's `prompt_tokens` is the whole prompt,
 * so the three input counts are summed. Details appear only when Anthropic reported the field, so a
 * caller can tell "no cache hit" (0) from "provider did not say" (absent). Cache writes are reported
 * apart (with their 1-hour part) because Anthropic bills them above the input price.
 */
export function normalizeAnthropicUsage(u: AnthropicUsage): Usage {
  const prompt =
    (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
  return usage(
    prompt,
    u.output_tokens ?? 0,
    // Null when nothing was cached: OpenAI always reports the count, 0 included.
    u.cache_read_input_tokens ?? 0,
    u.output_tokens_details?.thinking_tokens ?? undefined,
    {
      total: u.cache_creation_input_tokens ?? 0,
      oneHour: u.cache_creation?.ephemeral_1h_input_tokens ?? 0,
    },
  );
}

/**
 * `pause_turn` means a server tool paused a long turn; the text so far is a complete, usable answer, so
 * it reads as `stop`. Unknown future reasons also fold onto `stop` rather than failing the response.
 */
export function anthropicFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Anthropic answers `{}` for a tool without parameters, but an absent input must still be valid JSON. */
export const toolArguments = (input: unknown): string => JSON.stringify(input ?? {});

/**
 * The thinking blocks that led to a tool call ride on that call (`extra_content.anthropic.thinking_blocks`):
 * the ones before a turn's first call on it, and with interleaved thinking the ones between two calls on
 * the later one. While thinking is on, Anthropic requires them back, in their order, before those calls
 * in the next request (messages.ts puts them there).
 */
export const thinkingOf = (blocks: AnthropicThinkingBlock[]): { extra_content?: ToolCallExtraContent } =>
  blocks.length > 0 ? { extra_content: { anthropic: { thinking_blocks: blocks } } } : {};

/**
 * Text blocks are concatenated into the single OpenAI content string. `thinking` and `redacted_thinking`
 * blocks are not answer text, since Chat Completions has no field for reasoning text; they come back only
 * with the tool calls they precede (thinkingOf). Other block types only appear with server tools, which
 * the gateway never sends.
 */
export function fromAnthropicResponse(body: unknown, meta: ResponseMeta): ChatCompletion {
  const r = parseUpstream(anthropicMessage, body, meta.provider);
  const texts: string[] = [];
  const toolCalls: ResponseToolCall[] = [];
  let thinking: AnthropicThinkingBlock[] = [];
  for (const block of r.content) {
    if (block.type === "text") texts.push(block.text);
    else if (block.type === "thinking")
      thinking.push({ type: "thinking", thinking: block.thinking, signature: block.signature ?? "" });
    else if (block.type === "redacted_thinking")
      thinking.push({ type: "redacted_thinking", data: block.data });
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: toolArguments(block.input) },
        ...thinkingOf(thinking),
      });
      thinking = [];
    }
  }
  const text = texts.length > 0 ? texts.join("") : null;
  // A refused answer's text is the refusal, where Chat Completions carries one (`message.refusal`): the
  // SDKs' structured-output helpers read it there, and would parse it as the JSON answer otherwise.
  const refused = r.stop_reason === "refusal";
  return {
    id: r.id,
    object: "chat.completion",
    created: meta.created,
    model: r.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: refused ? null : text,
          refusal: refused ? (text ?? "") : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        // As OpenAI answers a refusal: `stop`, with the text in `refusal` (the SDK's `parse` returns it;
        // `content_filter` would make it throw before reading it).
        finish_reason: refused ? "stop" : anthropicFinishReason(r.stop_reason),
        logprobs: null,
      },
    ],
    usage: normalizeAnthropicUsage(r.usage),
    system_fingerprint: null,
  };
}
