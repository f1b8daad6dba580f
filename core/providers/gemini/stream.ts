import type {
  ChatCompletionChunk,
  ChoiceLogprobs,
  ChunkDelta,
  ChunkToolCallDelta,
  FinishReason,
} from "../../api/chat-response.ts";
import type { SseEvent } from "../../api/sse-parser.ts";
import { type AppendMap, emptyAppendMap, lookup, withEntry } from "../append-map.ts";
import type { BaseStreamState, ResponseMeta, StreamStep } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { geminiLogprobs } from "./logprobs.ts";
import {
  answerText,
  failedCall,
  geminiFinishReason,
  normalizeGeminiUsage,
  signatureOf,
  toolCallId,
} from "./response.ts";
import { geminiErrorPayload, geminiResponse } from "./wire.ts";

export interface GeminiStreamState extends BaseStreamState {
  /** The assistant role has been sent (OpenAI streams announce it once, first). */
  started: boolean;
  /** How many tool calls were emitted so far: the next one's index. */
  toolCount: number;
  /** The ids those calls got, so that no two share one. */
  toolIds: AppendMap<string, true>;
  /** Some candidate part (text, thought or call) has come: the final count must count output. */
  produced?: boolean;
  /** The response id and model of the chunk that finished the stream, for its trailing usage chunk. */
  lastId?: string;
  lastModel?: string;
}

export const initGeminiStream = (meta: ResponseMeta): GeminiStreamState => ({
  meta,
  usage: undefined,
  finished: false,
  started: false,
  toolCount: 0,
  toolIds: emptyAppendMap(),
});

type Choice = ChatCompletionChunk["choices"][number];

function chunkOf(
  state: GeminiStreamState,
  id: string,
  model: string,
  choices: Choice[],
): ChatCompletionChunk {
  return { id, object: "chat.completion.chunk", created: state.meta.created, model, choices };
}

const choice = (
  delta: ChunkDelta,
  finish: FinishReason | null,
  logprobs: ChoiceLogprobs | null = null,
): Choice => ({
  index: 0,
  delta,
  finish_reason: finish,
  logprobs,
});

function fault(
  message: string,
  code: string,
  state: GeminiStreamState,
  billed?: true,
): StreamStep<GeminiStreamState> {
  return { out: [], state, fault: { message, code, ...(billed ? { billed } : {}) } };
}

/**
 * Each `alt=sse` event is a whole GenerateContentResponse holding only the new parts. Text parts become
 * content deltas (thought parts are reasoning summaries and are skipped); function calls arrive whole, so
 * each becomes one complete tool-call delta, in a chunk of its own. There is no `[DONE]`: a `finishReason` (or a blocked prompt)
 * ends the response; the latest usage goes out as OpenAI's trailing usage chunk at its end (endGeminiStream).
 */
export function reduceGeminiStream(event: SseEvent, state: GeminiStreamState): StreamStep<GeminiStreamState> {
  let raw: unknown;
  try {
    raw = JSON.parse(event.data);
  } catch {
    return fault(
      `Provider '${state.meta.provider}' sent a malformed stream event.`,
      "upstream_malformed",
      state,
    );
  }
  const err = geminiErrorPayload.safeParse(raw);
  if (err.success) {
    const e = err.data.error;
    const message = e.message ?? `Provider '${state.meta.provider}' reported an error mid-stream.`;
    return { out: [], state, fault: { message, code: e.status ?? "upstream_error", declared: true } };
  }
  const r = parseUpstream(geminiResponse, raw, state.meta.provider);
  // Chunks may repeat cumulative usage; the latest one wins.
  const usage = r.usageMetadata ? normalizeGeminiUsage(r.usageMetadata) : state.usage;
  // A count after the finish reason: the count still to come when the finishing chunk's left the output out.
  if (state.finished)
    return {
      out: [],
      state: { ...state, usage, countPending: state.countPending === true && !countsOutput(r.usageMetadata) },
    };

  const id = r.responseId ?? state.meta.id;
  const model = r.modelVersion ?? state.meta.model;
  // The request mapper refuses n > 1 for streams, so only the first candidate is followed.
  const cand = (r.candidates ?? []).find((c) => (c.index ?? 0) === 0);
  let { toolIds, toolCount } = state;
  const used = { has: (id: string) => lookup(toolIds, id) !== undefined };
  const toolCalls: ChunkToolCallDelta[] = [];
  for (const p of cand?.content?.parts ?? []) {
    if (!p.functionCall) continue;
    const callId = toolCallId(p.functionCall.id, state.meta.id, toolCount, used);
    toolCalls.push({
      index: toolCount,
      id: callId,
      type: "function",
      function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) },
      ...signatureOf(p),
    });
    toolIds = withEntry(toolIds, callId, true);
    toolCount++;
  }
  const text = cand ? answerText(cand) : null;
  // A call Gemini could not make ends the stream as the error it is (response.ts failedCall).
  const failed = cand && failedCall(cand, text !== null || toolCount > 0);
  // Its usage goes with it: Gemini billed the call, and it is priced from it. Final only when this chunk
  // says it (an earlier chunk's running count does not include the failed call).
  const final = r.usageMetadata ? { usageFinal: true } : {};
  if (failed) return fault(failed, "upstream_malformed", { ...state, usage, ...final }, true);

  // One tool call a chunk, as OpenAI streams them: the SDK's stream helpers close a call's arguments
  // when the next index appears, so two calls in one chunk would report one done before its delta.
  const deltas: ChunkDelta[] = [];
  if (text !== null) deltas.push({ content: text });
  for (const call of toolCalls) deltas.push({ tool_calls: [call] });
  // The role alone first, as OpenAI opens a stream: on the first text it would have the SDKs' stream
  // helpers take that text's logprobs twice (they keep a new choice's logprobs, then append them), and
  // an answer of tool calls only would end with content "" where OpenAI's is null.
  const out: ChatCompletionChunk[] = state.started
    ? []
    : [chunkOf(state, id, model, [choice({ role: "assistant" }, null, null)])];
  const logprobs = geminiLogprobs(cand?.logprobsResult);
  deltas.forEach((delta, i) => {
    out.push(chunkOf(state, id, model, [choice(delta, null, i === 0 ? logprobs : null)]));
  });

  const blocked = !cand && Boolean(r.promptFeedback?.blockReason);
  const finish = blocked ? "content_filter" : geminiFinishReason(cand?.finishReason, toolCount > 0);
  // Output is a call or text (a thought's too); an empty text part (an empty answer) is none, and its
  // count, which leaves out an output count of 0, is whole.
  const produced =
    state.produced === true ||
    (cand?.content?.parts ?? []).some((p) => Boolean(p.functionCall) || (p.text ?? "").length > 0);
  const next: GeminiStreamState = { ...state, usage, started: true, toolIds, toolCount, produced };
  if (finish === null) return { out, state: next };
  out.push(chunkOf(state, id, model, [choice({}, finish)]));
  // A running count on the finishing chunk (the prompt alone) is not the bill: Gemini may count in a
  // chunk of its own after it, and a stream broken before that one is cut short.
  const countPending = produced && !countsOutput(r.usageMetadata);
  return { out, state: { ...next, finished: true, countPending, lastId: id, lastModel: model } };
}

/** Whether a usage count counts output (answer or thoughts), as a final one of a stream that had some does. */
const countsOutput = (
  u: { candidatesTokenCount?: number | null; thoughtsTokenCount?: number | null } | null | undefined,
) => u != null && (u.candidatesTokenCount != null || u.thoughtsTokenCount != null);

/**
 * OpenAI's trailing usage chunk, once the stream has ended: Gemini may send its final count in a chunk
 * after the one with the finish reason (usage alone), so the latest usage is known only at the end.
 */
export function endGeminiStream(state: GeminiStreamState): ChatCompletionChunk[] {
  if (!state.usage) return [];
  return [
    {
      ...chunkOf(state, state.lastId ?? state.meta.id, state.lastModel ?? state.meta.model, []),
      usage: state.usage,
    },
  ];
}
