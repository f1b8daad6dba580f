import { createHash } from "node:crypto";
import type {
  ChatCompletion,
  Embeddings,
  FinishReason,
  ResponseToolCall,
  ToolCallExtraContent,
  Usage,
} from "../../api/chat-response.ts";
import { usage } from "../../api/chat-response.ts";
import { type EmbeddingEncoding, float32Base64 } from "../../api/embedding-encoding.ts";
import { GatewayError, upstreamError } from "../../api/errors.ts";
import type { ResponseMeta } from "../types.ts";
import { parseUpstream } from "../upstream-json.ts";
import { geminiLogprobs } from "./logprobs.ts";
import {
  type GeminiCandidate,
  type GeminiFunctionCall,
  type GeminiResponsePart,
  type GeminiUsage,
  geminiEmbeddings,
  geminiResponse,
} from "./wire.ts";

/**
 * Gemini bills tool-use prompt tokens (e.g. search results fed back) as input and thinking tokens as
 * output, so both are folded in; the details are set only when Gemini reported them. The prompt's audio
 * (its AUDIO modality, which the Flash models bill above text) goes where OpenAI reports audio input,
 * `prompt_tokens_details.audio_tokens`.
 */
export function normalizeGeminiUsage(u: GeminiUsage): Usage {
  const out = usage(
    (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
    u.cachedContentTokenCount ?? undefined,
    u.thoughtsTokenCount ?? undefined,
  );
  const audio = (u.promptTokensDetails ?? [])
    .filter((d) => d.modality === "AUDIO")
    .reduce((n, d) => n + (d.tokenCount ?? 0), 0);
  if (audio > 0)
    out.prompt_tokens_details = { cached_tokens: 0, ...out.prompt_tokens_details, audio_tokens: audio };
  return out;
}

/** Gemini's FinishReason values that say a filter stopped the answer (the text ones and the image ones). */
const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/**
 * STOP after a function call means "your turn to run the tools". Everything that is neither a length
 * limit nor a filter (OTHER, ...) folds onto "stop", the closest OpenAI reason. A function call Gemini
 * could not produce is not an answer at all (failedCall).
 */
export function geminiFinishReason(
  reason: string | null | undefined,
  sawToolCall: boolean,
): FinishReason | null {
  if (reason == null) return null;
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  if (reason === "STOP" && sawToolCall) return "tool_calls";
  return "stop";
}

/**
 * The id of the `n`th call in a response (n runs over the whole response, or stream). Gemini ids its
 * calls only sometimes: a call without an id, or with one already used in the response, gets `call_`
 * and 24 hex digits of SHA-256 over the gateway's response id (new on every request) and n. The ids are
 * then unique across a conversation, not only within a turn: Chat Completions pairs results with calls
 * by id, and Anthropic refuses a history whose tool_use ids repeat (400 "tool_use ids must be unique"),
 * which a Gemini history sent to Claude (an alias falling back, a user switching models) would carry.
 * The same response still yields the same ids.
 */
export function toolCallId(
  given: string | null | undefined,
  responseId: string,
  n: number,
  used: { has(id: string): boolean },
): string {
  if (given && !used.has(given)) return given;
  return `call_${createHash("sha256").update(`${responseId}:${n}`).digest("hex").slice(0, 24)}`;
}

/** The call's thought signature as Google's OpenAI-compatible endpoint returns it (chat-response.ts). */
export const signatureOf = (part: GeminiResponsePart): { extra_content?: ToolCallExtraContent } =>
  part.thoughtSignature ? { extra_content: { google: { thought_signature: part.thoughtSignature } } } : {};

export function toResponseToolCall(
  fc: GeminiFunctionCall,
  part: GeminiResponsePart,
  id: string,
): ResponseToolCall {
  return {
    id,
    type: "function",
    function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
    ...signatureOf(part),
  };
}

/** Answer text of a candidate. `thought: true` parts are reasoning summaries, not the answer: skipped. */
export function answerText(c: GeminiCandidate): string | null {
  const texts = (c.content?.parts ?? []).filter((p) => p.text != null && !p.thought).map((p) => p.text ?? "");
  return texts.length > 0 ? texts.join("") : null;
}

/** Finish reasons of a function call the model tried and failed to make. */
const FAILED_CALL = new Set(["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"]);

/**
 * A candidate that ended on a function call Gemini could not make, with nothing else in it: what went
 * wrong, for an error (the caller would read an empty `stop` as the model's last word, and an agent loop
 * would end). It fails as `upstream_malformed`, which falls back to the next target and which the SDKs
 * retry. Undefined for any other candidate.
 */
export function failedCall(
  c: { finishReason?: string | null | undefined; finishMessage?: string | null | undefined },
  hasOutput: boolean,
): string | undefined {
  if (hasOutput || !FAILED_CALL.has(c.finishReason ?? "")) return undefined;
  const why = c.finishMessage ? `: ${c.finishMessage.slice(0, 500)}` : "";
  return `ended on a function call it could not make (${c.finishReason})${why}`;
}

export function fromGeminiResponse(body: unknown, meta: ResponseMeta): ChatCompletion {
  const { provider } = meta;
  const r = parseUpstream(geminiResponse, body, provider);
  const candidates = r.candidates ?? [];
  const failed = candidates.map((c) =>
    failedCall(c, answerText(c) !== null || (c.content?.parts ?? []).some((p) => p.functionCall)),
  );
  if (candidates.length > 0 && failed.every((f) => f !== undefined)) {
    // Gemini billed the call: its usage prices the failed attempt.
    throw new GatewayError(502, "upstream_error", `Provider '${provider}' ${failed[0]}.`, {
      code: "upstream_malformed",
      billedUsage: r.usageMetadata ? normalizeGeminiUsage(r.usageMetadata) : undefined,
    });
  }
  const used = new Set<string>();
  let calls = 0;
  const choices: ChatCompletion["choices"] = candidates.map((c, position) => {
    const toolCalls = (c.content?.parts ?? []).flatMap((p) => {
      if (!p.functionCall) return [];
      const id = toolCallId(p.functionCall.id, meta.id, calls++, used);
      used.add(id);
      return [toResponseToolCall(p.functionCall, p, id)];
    });
    return {
      index: c.index ?? position,
      message: {
        role: "assistant",
        content: answerText(c),
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: geminiFinishReason(c.finishReason, toolCalls.length > 0) ?? "stop",
      logprobs: geminiLogprobs(c.logprobsResult),
    };
  });
  if (choices.length === 0) {
    // A blocked prompt yields no candidates at all, only promptFeedback.blockReason.
    if (!r.promptFeedback?.blockReason) {
      throw upstreamError(`Provider '${provider}' returned no candidates.`, "upstream_malformed");
    }
    choices.push({
      index: 0,
      message: { role: "assistant", content: null, refusal: null },
      finish_reason: "content_filter",
      logprobs: null,
    });
  }
  return {
    id: r.responseId ?? meta.id,
    object: "chat.completion",
    created: meta.created,
    model: r.modelVersion ?? meta.model,
    choices,
    ...(r.usageMetadata ? { usage: normalizeGeminiUsage(r.usageMetadata) } : {}),
  };
}

/**
 * The vector scaled to unit length. Google normalizes only gemini-embedding-001's full-size (3 072)
 * output; smaller `outputDimensionality` vectors are not, and Google's embeddings guide tells callers to
 * normalize them ("Ensuring quality for smaller dimensions"). OpenAI's embeddings are unit length and its
 * clients rank by dot product, which on unnormalized vectors favours the longer ones. A vector already of
 * unit length (within float rounding) is returned as Gemini sent it; a zero vector has no direction.
 */
function unitLength(values: number[]): number[] {
  const squares = values.reduce((sum, v) => sum + v * v, 0);
  if (squares === 0 || Math.abs(squares - 1) < 1e-6) return values;
  const norm = Math.sqrt(squares);
  return values.map((v) => v / norm);
}

export function fromGeminiEmbeddings(
  body: unknown,
  meta: ResponseMeta,
  encoding: EmbeddingEncoding = "float",
): Embeddings {
  const r = parseUpstream(geminiEmbeddings, body, meta.provider);
  // The Developer API's batchEmbedContents reports no token counts, and we never estimate: 0 unless
  // Gemini says otherwise (geminiEmbeddingsUsageReported tells the accounting, which bills the bound).
  const prompt = r.usageMetadata?.promptTokenCount ?? 0;
  return {
    object: "list",
    data: r.embeddings.map((e, index) => {
      const values = unitLength(e.values);
      return {
        object: "embedding",
        index,
        embedding: encoding === "base64" ? float32Base64(values) : values,
      };
    }),
    model: meta.model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}

/** Whether a `batchEmbedContents` answer counted its tokens (the Developer API's does not). */
export function geminiEmbeddingsUsageReported(body: unknown): boolean {
  const usage = (body as { usageMetadata?: { promptTokenCount?: unknown } } | null)?.usageMetadata;
  return typeof usage?.promptTokenCount === "number";
}
