import type {
  AnthropicThinkingBlock,
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
} from "../../api/chat-response.ts";
import { GatewayError } from "../../api/errors.ts";
import type { SseEvent } from "../../api/sse-parser.ts";
import { type AppendMap, emptyAppendMap, lookup, withEntry } from "../append-map.ts";
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
  /**
   * Anthropic block index → what the latest block started there is (a provider may start another
   * block at an index, and its deltas are that block's): an OpenAI tool call, a block an OpenAI answer
   * has no place for (a server tool's call and result, whose deltas, input_json_delta included, are
   * skipped like it), or text or thinking.
   */
  blocks: AppendMap<number, Block>;
  toolCount: number;
  /**
   * Ordinals of the tool calls opened empty whose arguments have come (or were closed as `{}`): by
   * ordinal, since a provider repeating a block index opens another call there.
   */
  filled: AppendMap<number, true>;
  stopReason: string | null;
  /** Raw cumulative counts: `message_delta` overrides `message_start` field by field. */
  rawUsage: AnthropicUsage;
  /**
   * The thinking blocks' starts and deltas, in order (keyed by position), for the tool calls they
   * precede: each call carries the blocks pieced together from `thinkingSent` on.
   */
  thinking: AppendMap<number, ThinkingPiece>;
  thinkingSent: number;
}

/** A tool call: its OpenAI ordinal, and whether it opened with empty arguments a delta may fill. */
interface ToolBlock {
  kind: "tool";
  ordinal: number;
  openedEmpty: boolean;
}

/** `other`: text or thinking, which take no tool input. */
type Block = ToolBlock | { kind: "skipped" } | { kind: "other" };

type ThinkingPiece =
  | { index: number; start: AnthropicThinkingBlock }
  | { index: number; thinking: string }
  | { index: number; signature: string };

export const initAnthropicStream = (meta: ResponseMeta): AnthropicStreamState => ({
  meta,
  usage: undefined,
  finished: false,
  id: meta.id,
  model: meta.model,
  blocks: emptyAppendMap(),
  toolCount: 0,
  filled: emptyAppendMap(),
  stopReason: null,
  rawUsage: {},
  thinking: emptyAppendMap(),
  thinkingSent: 0,
});

const withThinking = (s: AnthropicStreamState, piece: ThinkingPiece): AnthropicStreamState => ({
  ...s,
  thinking: withEntry(s.thinking, s.thinking.size, piece),
});

/**
 * The thinking blocks whose pieces came since the last tool call, pieced together: a delta adds to the
 * latest block started with its index, when that is a `thinking` one (a redacted block takes none).
 */
function pendingThinking(s: AnthropicStreamState): AnthropicThinkingBlock[] {
  const blocks: AnthropicThinkingBlock[] = [];
  const byIndex = new Map<number, number>();
  for (let at = s.thinkingSent; at < s.thinking.size; at++) {
    const piece = lookup(s.thinking, at)!;
    if ("start" in piece) {
      byIndex.set(piece.index, blocks.length);
      blocks.push(piece.start);
      continue;
    }
    const where = byIndex.get(piece.index);
    const block = where === undefined ? undefined : blocks[where];
    if (where === undefined || block?.type !== "thinking") continue;
    blocks[where] =
      "thinking" in piece
        ? { ...block, thinking: block.thinking + piece.thinking }
        : { ...block, signature: block.signature + piece.signature };
  }
  return blocks;
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

/** A tool call opened with empty arguments that no input_json_delta has filled yet. */
const awaitsArguments = (s: AnthropicStreamState, tool: ToolBlock): boolean =>
  tool.openedEmpty && lookup(s.filled, tool.ordinal) === undefined;

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
      // The role alone, as OpenAI opens a stream whose answer may be tool calls only: `content: ""` here
      // would make such an answer's content "" in the SDKs' final message, where it is null.
      return { out: [chunk(next, { role: "assistant" })], state: next };
    }
    case "content_block_start": {
      const { index, content_block: block } = parseUpstream(contentBlockStartEvent, raw, s.meta.provider);
      const at = (b: Block) => withEntry(s.blocks, index, b);
      if (block.type === "text") {
        const text = { ...s, blocks: at({ kind: "other" }) };
        return { out: block.text ? [chunk(text, { content: block.text })] : [], state: text };
      }
      if (block.type === "thinking" || block.type === "redacted_thinking") {
        const kept: AnthropicThinkingBlock =
          block.type === "thinking"
            ? { type: "thinking", thinking: block.thinking, signature: block.signature ?? "" }
            : { type: "redacted_thinking", data: block.data };
        return {
          out: [],
          state: withThinking({ ...s, blocks: at({ kind: "other" }) }, { index, start: kept }),
        };
      }
      if (block.type !== "tool_use") return { out: [], state: { ...s, blocks: at({ kind: "skipped" }) } };
      // The input arrives as input_json_delta; a non-empty start input would be sent whole instead.
      const hasInput =
        typeof block.input === "object" && block.input !== null && Object.keys(block.input).length > 0;
      const next = {
        ...s,
        blocks: at({ kind: "tool", ordinal: s.toolCount, openedEmpty: !hasInput }),
        toolCount: s.toolCount + 1,
      };
      const call = { index: s.toolCount, id: block.id, type: "function" as const };
      const fn = { name: block.name, arguments: hasInput ? toolArguments(block.input) : "" };
      // The thinking blocks before this call are complete by now (each stops before the next block
      // starts); those since the previous call ride on this one.
      const extra = thinkingOf(pendingThinking(s));
      const sent = { ...next, thinkingSent: s.thinking.size };
      return { out: [chunk(sent, { tool_calls: [{ ...call, function: fn, ...extra }] })], state: sent };
    }
    case "content_block_delta": {
      const { index, delta } = parseUpstream(contentBlockDeltaEvent, raw, s.meta.provider);
      if (delta.type === "text_delta") return { out: [chunk(s, { content: delta.text })], state: s };
      if (delta.type === "thinking_delta")
        return { out: [], state: withThinking(s, { index, thinking: delta.thinking }) };
      if (delta.type === "signature_delta")
        return { out: [], state: withThinking(s, { index, signature: delta.signature }) };
      if (delta.type === "other" || delta.partial_json === "") return { out: [], state: s };
      const tool = lookup(s.blocks, index);
      if (tool?.kind === "skipped") return { out: [], state: s };
      if (tool?.kind !== "tool") {
        return {
          out: [],
          state: s,
          fault: malformed(`Provider '${s.meta.provider}' sent tool input for block ${index}, no tool call.`),
        };
      }
      const toolDelta = { index: tool.ordinal, function: { arguments: delta.partial_json } };
      // Checked before copying: this runs once per argument fragment.
      const next = awaitsArguments(s, tool) ? { ...s, filled: withEntry(s.filled, tool.ordinal, true) } : s;
      return { out: [chunk(next, { tool_calls: [toolDelta] })], state: next };
    }
    case "content_block_stop": {
      // A tool without parameters streams no input (content_block_start's `input: {}` is a placeholder,
      // per Anthropic's "Streaming Messages", and at most an empty partial_json follows), while the
      // unstreamed answer has `input: {}`. OpenAI streams such a call's arguments as "{}", which
      // clients JSON.parse: the call gets that as it closes.
      const { index } = parseUpstream(contentBlockStopEvent, raw, s.meta.provider);
      const tool = lookup(s.blocks, index);
      if (tool?.kind !== "tool" || !awaitsArguments(s, tool)) return { out: [], state: s };
      const closed = { ...s, filled: withEntry(s.filled, tool.ordinal, true) };
      const toolDelta = { index: tool.ordinal, function: { arguments: "{}" } };
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
      return { out: [], state: s, fault: { message: error.message, code: error.type, declared: true } };
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
