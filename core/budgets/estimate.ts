import type { ChatMessage, ChatRequest } from "../api/chat-request.ts";
import { type EmbeddingsRequest, embeddingInputs } from "../api/embeddings-request.ts";
import type { ProviderKind } from "../config/types.ts";
import { anthropicMaxTokens } from "../providers/anthropic/thinking.ts";
import { costAtTier, type Price, type TokenUsage, tierFor } from "./pricing.ts";

/**
 * The worst-case cost of a request before it is sent, for budget reservation: an upper bound that the
 * provider's bill cannot exceed, not a guess at it. Settlement later moves the reservation to the cost
 * of the tokens the provider reports.
 *
 * Input bound. Every tokenizer these providers use (OpenAI's byte-level BPE, Anthropic's BPE, Gemini's
 * SentencePiece with byte fallback) maps each token to a non-empty run of the text's UTF-8 bytes, so a
 * text of n UTF-8 bytes is at most n tokens: the finest split possible is one token per byte. That holds
 * for any script: a CJK character is 3 bytes and at most 3 tokens, an emoji 4 bytes and at most 4. What
 * the provider adds around the text (role markers, the chat template, a tool-use system prompt) is not in
 * the bytes, so fixed allowances cover it: per request, per message, per tool. Images are not text:
 * each image part adds the largest token count its provider documents for one image.
 *
 * Output bound. The request's `max_completion_tokens ?? max_tokens`, else DEFAULT_MAX_OUTPUT_TOKENS,
 * which the router sends upstream when a budgeted request sets no limit, so the bound holds; times
 * `n` choices. Reasoning tokens count towards that limit (OpenAI's `max_completion_tokens`, Anthropic's
 * `max_tokens` with thinking, Gemini's `maxOutputTokens` with thinking), so all output is priced at
 * the higher of the output and reasoning prices. Prices come from worstCaseChatCost's tier rule.
 */

/** Output limit sent upstream for a budgeted request that sets none. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

/** Chat-template tokens around each message (role and separators; OpenAI documents 3-4). */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** Tokens around the whole request (OpenAI primes every reply with 3). */
export const REQUEST_OVERHEAD_TOKENS = 8;
/** Template tokens around each tool definition, beyond its JSON. */
export const TOOL_OVERHEAD_TOKENS = 16;
/**
 * A system prompt providers add once when tools are present. Anthropic documents its tool-use system
 * prompt at a few hundred tokens per model (346 for `tool_choice: auto` on Claude 4 models).
 */
export const TOOLS_SYSTEM_PROMPT_TOKENS = 512;
/** Template tokens around a `response_format` schema, beyond its JSON. */
export const RESPONSE_FORMAT_OVERHEAD_TOKENS = 16;
/** Tokens a provider may add around each embeddings input (begin/end markers). */
export const EMBEDDING_INPUT_OVERHEAD_TOKENS = 4;

/**
 * The most tokens one image can be billed as, per provider, from their documented image pricing:
 * - OpenAI ("Images and vision", calculating costs): tile-based models scale an image to fit 2048 px,
 *   then its short side to 768 px, so at most 8 tiles of 512 px; gpt-4o and gpt-4.1 bill 85 + 170 per
 *   tile = 1 445, but gpt-4o-mini bills 2 833 + 5 667 per tile = 48 169 (so its per-image dollar price
 *   matches gpt-4o's). Patch-based models (gpt-4.1-mini/nano, o4-mini) cap an image at 1 536 patches of
 *   32 px times a model multiplier, at most 2.46 (gpt-4.1-nano): 3 779.
 * - Anthropic (Vision, image costs): tokens ≈ width × height / 750, and larger images are scaled down
 *   to about 1.15 megapixels first, so about 1 600 tokens at most.
 * - Gemini ("Understand and count tokens"): 258 tokens per image up to 384 px, larger ones are cut into
 *   768 px tiles of 258 tokens each. No cap is documented; this allows images up to 4 096 px a side
 *   (6 × 6 tiles = 9 288 tokens). A larger image sent to Gemini can exceed the bound.
 */
export const IMAGE_TOKENS = {
  openai: 3_779,
  openaiGpt4oMini: 48_169,
  anthropic: 1_600,
  gemini: 9_288,
  mock: 1_600,
} as const;

/** The per-image allowance for a target. */
export function imageTokenAllowance(kind: ProviderKind, providerModel: string): number {
  if (kind === "openai")
    return /^gpt-4o-mini\b/.test(providerModel) ? IMAGE_TOKENS.openaiGpt4oMini : IMAGE_TOKENS.openai;
  return IMAGE_TOKENS[kind];
}

const bytes = (text: string | null | undefined): number => (text ? Buffer.byteLength(text, "utf8") : 0);
const jsonBytes = (value: unknown): number => (value === undefined ? 0 : bytes(JSON.stringify(value)));

function messageBound(m: ChatMessage, imageTokens: number): number {
  let n = MESSAGE_OVERHEAD_TOKENS;
  if ("name" in m) n += bytes(m.name);
  const content = m.content;
  if (typeof content === "string") n += bytes(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === "text") n += bytes(part.text);
      else if (part.type === "image_url") n += imageTokens;
      // A file's or audio's tokens have no bound in its bytes (a PDF's streams are compressed; audio is
      // billed by the second): budgets refuse them (inline-parts.ts); for token rate limits, which are
      // corrected afterwards, their encoded size.
      else if (part.type === "file") n += bytes(part.file.file_data ?? part.file.file_id);
      else n += bytes(part.input_audio.data);
    }
  }
  if (m.role === "assistant") {
    n += bytes(m.refusal);
    for (const call of m.tool_calls ?? []) {
      n += bytes(call.id) + bytes(call.function.name) + bytes(call.function.arguments) + TOOL_OVERHEAD_TOKENS;
      // Thinking echoed back goes to Anthropic with the call, as input.
      for (const b of call.extra_content?.anthropic?.thinking_blocks ?? [])
        n += b.type === "thinking" ? bytes(b.thinking) + bytes(b.signature) : bytes(b.data);
    }
  }
  if (m.role === "tool") n += bytes(m.tool_call_id);
  return n;
}

function predictionBytes(req: ChatRequest): number {
  const content = req.prediction?.content;
  if (content === undefined) return 0;
  return typeof content === "string" ? bytes(content) : content.reduce((n, p) => n + bytes(p.text), 0);
}

export interface TokenBound {
  input: number;
  output: number;
}

/** Upper bounds on a chat request's input and output tokens at one target (`kind`/`providerModel`). */
export function worstCaseChatTokens(req: ChatRequest, kind: ProviderKind, providerModel: string): TokenBound {
  const imageTokens = imageTokenAllowance(kind, providerModel);
  let input = REQUEST_OVERHEAD_TOKENS;
  for (const m of req.messages) input += messageBound(m, imageTokens);
  if (req.tools?.length) {
    input += TOOLS_SYSTEM_PROMPT_TOKENS;
    for (const tool of req.tools) input += jsonBytes(tool.function) + TOOL_OVERHEAD_TOKENS;
  }
  if (typeof req.tool_choice === "object") input += jsonBytes(req.tool_choice);
  if (req.response_format && req.response_format.type !== "text") {
    input += RESPONSE_FORMAT_OVERHEAD_TOKENS;
    if (req.response_format.type === "json_schema") input += jsonBytes(req.response_format.json_schema);
  }
  // Anthropic with thinking and no limit is sent a larger max_tokens (thinking.ts): bound by that.
  // OpenAI is sent both limits when a caller gives both (no documented rule says which one it then
  // honours, nor which one an OpenAI-compatible server does): the larger bounds it. Gemini is sent
  // max_completion_tokens first (gemini/request.ts).
  const perChoice =
    kind === "anthropic"
      ? anthropicMaxTokens(req, providerModel)
      : kind === "openai" && req.max_completion_tokens != null && req.max_tokens != null
        ? Math.max(req.max_completion_tokens, req.max_tokens)
        : (req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS);
  // OpenAI bills a prediction's rejected tokens as output, on top of what the answer uses; at most the
  // prediction's own tokens. Other providers ignore the prediction.
  const rejected = kind === "openai" ? predictionBytes(req) : 0;
  return { input, output: (perChoice + rejected) * (req.n ?? 1) };
}

/** The tiers OpenAI says served a request (`service_tier` in its answer), each billed at its own prices. */
const SERVED_TIERS = new Set(["default", "flex", "priority", "scale"]);

/** Rounds up to the next 1e-9 USD, after dropping float dust below 1e-12. */
const ceilUsd = (usd: number): number => Math.ceil(Math.round(usd * 1e12) / 1e3) / 1e9;

/**
 * The most a chat request can cost at one target: every input token at the dearest input-side price
 * (input, cache read, cache write, 1-hour cache write), every output token at the dearer of the output
 * and reasoning prices. When the input bound passes the model's long-context threshold, the prompt may
 * or may not (the bound is loose), so both tiers are considered; so is OpenAI's priority tier, where the
 * table has one, unless the request pins another tier. A request routed over several targets reserves
 * the largest of their bounds.
 */
export function worstCaseChatCost(
  req: ChatRequest,
  price: Price,
  kind: ProviderKind,
  providerModel: string,
  /**
   * What the provider has counted of the input already (a stream cut short, Anthropic's message_start):
   * priced as counted (cache reads and writes at their prices), and the bound's input only beyond it.
   */
  counted?: TokenUsage,
  /**
   * The tier the provider said serves the request (OpenAI's `service_tier` on a stream's chunks), once
   * it has said: the request is billed at that tier's prices, not at the dearest it might have got.
   */
  servedTier?: string,
): number {
  const bound = worstCaseChatTokens(req, kind, providerModel);
  const known = counted?.input ?? 0;
  const input = Math.max(bound.input, known);
  const { output } = bound;
  // Only a tier OpenAI bills by: a relay may echo `auto`, or name a tier of its own (`on_demand`).
  const served = servedTier !== undefined && SERVED_TIERS.has(servedTier) ? servedTier : undefined;
  const tiers = [tierFor(price, 0, served), tierFor(price, input, served)];
  // OpenAI serves `auto` (or no tier) at the project's default tier, which may be priority: only a
  // request that pins `default` or `flex`, or one OpenAI said it serves at another tier, is sure not
  // to be billed at priority prices.
  if (served === undefined && req.service_tier !== "default" && req.service_tier !== "flex")
    tiers.push(tierFor(price, 0, "priority"));
  const inputPrice = Math.max(...tiers.flatMap((t) => [t.input, t.cached, t.cacheWrite, t.cacheWrite1h]));
  const outputPrice = Math.max(...tiers.flatMap((t) => [t.output, t.reasoning]));
  const countedCost = counted
    ? Math.max(...tiers.map((t) => costAtTier(t, { ...counted, output: 0, reasoning: 0 })))
    : 0;
  return ceilUsd((countedCost + (input - known) * inputPrice + output * outputPrice) / 1e6);
}

/**
 * Upper bound on an embeddings request's tokens: the UTF-8 bytes of every text input plus a small overhead
 * each; a token-id input counts exactly its ids.
 */
export function worstCaseEmbeddingTokens(req: EmbeddingsRequest): number {
  return embeddingInputs(req).reduce(
    (n, input) =>
      n + (typeof input === "string" ? bytes(input) + EMBEDDING_INPUT_OVERHEAD_TOKENS : input.length),
    0,
  );
}

/** The most an embeddings request can cost: its token bound at the embedding price (default: input price). */
export function worstCaseEmbeddingCost(req: EmbeddingsRequest, price: Price): number {
  return ceilUsd((worstCaseEmbeddingTokens(req) * (price.embeddingPerMTok ?? price.inputPerMTok)) / 1e6);
}
