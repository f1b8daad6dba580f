import type {
  AnthropicThinkingBlock,
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
} from "../../api/chat-response.ts";
import { GatewayError } from "../../api/errors.ts";
import type { SseEvent } from "../../api/sse-parser.ts";
import type { BaseStreamState, ResponseMeta, StreamFault, StreamStep } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { anthropicFinishReason, normalizeAnthropicUsage, thinkingOf, toolArguments } from "./response.ts";
import {
  type AnthropicUsage,
  contentBlockDeltaEvent,
  contentBlockStartEvent,
  contentBlockStopEvent,
  errorEvent,
  messageDeltaEvent,
  messageStartEvent,
} from "./wire.ts";

export interface AnthropicStreamState extends BaseStreamState {
  /** Message id and model from `message_start`; meta's until then. */
  id: string;
  model: string;
  /** Anthropic block index → OpenAI tool-call ordinal (text and thinking blocks take block indices too). */
  toolIndex: Readonly<Record<number, number>>;
  toolCount: number;
  /** Block indices of tool calls opened with empty arguments that no input_json_delta has filled yet. */
  noArgs: readonly number[];
  stopReason: string | null;
  /** Raw cumulative counts: `message_delta` overrides `message_start` field by field. */
  rawUsage: AnthropicUsage;
  /** Thinking blocks so far, and where each sits (block index → position), for the calls they precede. */
  thinking: readonly AnthropicThinkingBlock[];
  thinkingIndex: Readonly<Record<number, number>>;
  /** How many of them already rode on a tool call. */
  thinkingSent: number;
  /**
   * Block indices of blocks an OpenAI answer has no place for (a server tool's call and result): their
   * deltas, input_json_delta included, are skipped like the blocks.
   */
  skipped: readonly number[];
}

export const initAnthropicStream = (meta: ResponseMeta): AnthropicStreamState => ({
  meta,
  usage: undefined,
  finished: false,
  id: meta.id,
  model: meta.model,
  toolIndex: {},
  toolCount: 0,
  noArgs: [],
  skipped: [],
  stopReason: null,
  rawUsage: {},
  thinking: [],
  thinkingIndex: {},
  thinkingSent: 0,
});

/** The stream's thinking with block `index` changed by `edit` (a thinking delta or its signature). */
function editThinking(
  s: AnthropicStreamState,
  index: number,
  edit: (b: Extract<AnthropicThinkingBlock, { type: "thinking" }>) => AnthropicThinkingBlock,
): AnthropicStreamState {
  const at = s.thinkingIndex[index];
  const block = at === undefined ? undefined : s.thinking[at];
  if (at === undefined || block?.type !== "thinking") return s;
  const thinking = [...s.thinking];
  thinking[at] = edit(block);
  return { ...s, thinking };
}

const chunk = (
  s: AnthropicStreamState,
  delta: ChunkDelta,
  finish: FinishReason | null = null,
): ChatCompletionChunk => ({
  id: s.id,
  object: "chat.completion.chunk",
  created: s.meta.created,
  model: s.model,
  choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
});

/** Later reports win per field; a null in `message_delta` means "not restated", not zero. */
function mergeUsage(prev: AnthropicUsage, next: AnthropicUsage | null | undefined): AnthropicUsage {
  if (!next) return prev;
  const merged: Record<string, unknown> = { ...prev };
  for (const [key, value] of Object.entries(next)) if (value != null) merged[key] = value;
  return merged as AnthropicUsage;
}

const malformed = (message: string): StreamFault => ({ message, code: "upstream_malformed" });

function step(type: string, raw: unknown, s: AnthropicStreamState): StreamStep<AnthropicStreamState> {
  switch (type) {
    case "message_start": {
      const { message } = parseUpstream(messageStartEvent, raw, s.meta.provider);
      const rawUsage = mergeUsage(s.rawUsage, message.usage);
      const next = {
        ...s,
        id: message.id,
        model: message.model,
        rawUsage,
        usage: normalizeAnthropicUsage(rawUsage),
      };
      return { out: [chunk(next, { role: "assistant", content: "" })], state: next };
    }
    case "content_block_start": {
      const { index, content_block: block } = parseUpstream(contentBlockStartEvent, raw, s.meta.provider);
      if (block.type === "text")
        return { out: block.text ? [chunk(s, { content: block.text })] : [], state: s };
      if (block.type === "thinking" || block.type === "redacted_thinking") {
        const kept: AnthropicThinkingBlock =
          block.type === "thinking"
            ? { type: "thinking", thinking: block.thinking, signature: block.signature ?? "" }
            : { type: "redacted_thinking", data: block.data };
        const thinkingIndex = { ...s.thinkingIndex, [index]: s.thinking.length };
        return { out: [], state: { ...s, thinking: [...s.thinking, kept], thinkingIndex } };
      }
      if (block.type !== "tool_use") return { out: [], state: { ...s, skipped: [...s.skipped, index] } };
      // The input arrives as input_json_delta; a non-empty start input would be sent whole instead.
      const hasInput =
        typeof block.input === "object" && block.input !== null && Object.keys(block.input).length > 0;
      const next = {
        ...s,
        toolIndex: { ...s.toolIndex, [index]: s.toolCount },
        toolCount: s.toolCount + 1,
        noArgs: hasInput ? s.noArgs : [...s.noArgs, index],
      };
      const call = { index: s.toolCount, id: block.id, type: "function" as const };
      const fn = { name: block.name, arguments: hasInput ? toolArguments(block.input) : "" };
      // The thinking blocks before this call are complete by now (each stops before the next block
      // starts); those since the previous call ride on this one.
      const extra = thinkingOf(s.thinking.slice(s.thinkingSent));
      const sent = { ...next, thinkingSent: s.thinking.length };
      return { out: [chunk(sent, { tool_calls: [{ ...call, function: fn, ...extra }] })], state: sent };
    }
    case "content_block_delta": {
      const { index, delta } = parseUpstream(contentBlockDeltaEvent, raw, s.meta.provider);
      if (delta.type === "text_delta") return { out: [chunk(s, { content: delta.text })], state: s };
      if (delta.type === "thinking_delta")
        return {
          out: [],
          state: editThinking(s, index, (b) => ({ ...b, thinking: b.thinking + delta.thinking })),
        };
      if (delta.type === "signature_delta")
        return {
          out: [],
          state: editThinking(s, index, (b) => ({ ...b, signature: b.signature + delta.signature })),
        };
      if (delta.type === "other" || delta.partial_json === "") return { out: [], state: s };
      const ordinal = s.toolIndex[index];
      if (ordinal === undefined && s.skipped.includes(index)) return { out: [], state: s };
      if (ordinal === undefined) {
        return {
          out: [],
          state: s,
          fault: malformed(`Provider '${s.meta.provider}' sent tool input for unknown block ${index}.`),
        };
      }
      const toolDelta = { index: ordinal, function: { arguments: delta.partial_json } };
      // Checked before copying: this runs once per argument fragment.
      const filled = s.noArgs.includes(index) ? { ...s, noArgs: s.noArgs.filter((i) => i !== index) } : s;
      return { out: [chunk(filled, { tool_calls: [toolDelta] })], state: filled };
    }
    case "content_block_stop": {
      // A tool without parameters streams no input (content_block_start's `input: {}` is a placeholder,
      // per Anthropic's "Streaming Messages", and at most an empty partial_json follows), while the
      // unstreamed answer has `input: {}`. OpenAI streams such a call's arguments as "{}", which
      // clients JSON.parse: the call gets that as it closes.
      const { index } = parseUpstream(contentBlockStopEvent, raw, s.meta.provider);
      const ordinal = s.toolIndex[index];
      if (ordinal === undefined || !s.noArgs.includes(index)) return { out: [], state: s };
      const closed = { ...s, noArgs: s.noArgs.filter((i) => i !== index) };
      const toolDelta = { index: ordinal, function: { arguments: "{}" } };
      return { out: [chunk(closed, { tool_calls: [toolDelta] })], state: closed };
    }
    case "message_delta": {
      const e = parseUpstream(messageDeltaEvent, raw, s.meta.provider);
      const rawUsage = mergeUsage(s.rawUsage, e.usage);
      const stopReason = e.delta.stop_reason ?? s.stopReason;
      // The message's one message_delta carries its cumulative, final usage.
      const usage = normalizeAnthropicUsage(rawUsage);
      return { out: [], state: { ...s, stopReason, rawUsage, usage, usageFinal: true } };
    }
    case "message_stop": {
      // The stop reason and the final usage come in message_delta, before message_stop. A message_stop
      // without one ends a message whose ending and bill were never told: it does not finish the
      // stream, which then counts as cut (upstream_truncated) and is priced without a count.
      if (s.usageFinal !== true) return { out: [], state: s };
      const usage = normalizeAnthropicUsage(s.rawUsage);
      const finish = chunk(s, {}, anthropicFinishReason(s.stopReason));
      const usageChunk: ChatCompletionChunk = { ...chunk(s, {}), choices: [], usage };
      return { out: [finish, usageChunk], state: { ...s, usage, finished: true } };
    }
    case "error": {
      const { error } = parseUpstream(errorEvent, raw, s.meta.provider);
      return { out: [], state: s, fault: { message: error.message, code: error.type } };
    }
    default:
      // `ping` and event types added later carry nothing a chunk needs.
      return { out: [], state: s };
  }
}

/**
 * One Anthropic SSE event in, OpenAI chunks out. The payload's own `type` decides (the SSE `event:`
 * line mirrors it and is only a fallback). A payload that breaks the documented shape becomes a fault,
 * so the router ends the stream with an error instead of the reducer throwing mid-stream.
 */
export function reduceAnthropicStream(
  event: SseEvent,
  state: AnthropicStreamState,
): StreamStep<AnthropicStreamState> {
  let raw: unknown;
  try {
    raw = JSON.parse(event.data);
  } catch {
    return {
      out: [],
      state,
      fault: malformed(`Provider '${state.meta.provider}' sent a malformed stream event.`),
    };
  }
  const tagged = typeof raw === "object" && raw !== null && "type" in raw ? raw.type : undefined;
  const type = typeof tagged === "string" ? tagged : (event.event ?? "");
  try {
    return step(type, raw, state);
  } catch (err) {
    if (err instanceof GatewayError)
      return { out: [], state, fault: { message: err.message, code: err.code ?? "" } };
    throw err;
  }
}
