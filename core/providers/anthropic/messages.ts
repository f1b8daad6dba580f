import type { ChatMessage, ContentPart } from "../../api/chat-request.ts";
import type { AnthropicThinkingBlock } from "../../api/chat-response.ts";
import { badRequest, unsupportedParameter } from "../../api/errors.ts";
import { append } from "../append.ts";
import { inlinePdf } from "../file-part.ts";
import { namesParticipant } from "../participant-names.ts";

/** Anthropic's prompt-cache breakpoint on a block; `ttl` "1h", or Anthropic's default of 5 minutes. */
export type CacheControl = { type: "ephemeral"; ttl?: "1h" };

/** Anthropic request content blocks the gateway sends (see the SDK's `*BlockParam` types). */
export type TextBlock = { type: "text"; text: string; cache_control?: CacheControl };
export type ImageBlock = { type: "image"; source: ImageSource; cache_control?: CacheControl };
export type DocumentBlock = {
  type: "document";
  source: { type: "base64"; media_type: "application/pdf"; data: string };
  title?: string;
  cache_control?: CacheControl;
};
const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const;
type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];
type ImageSource =
  | { type: "url"; url: string }
  | { type: "base64"; media_type: ImageMediaType; data: string };
export type RequestBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | AnthropicThinkingBlock
  | { type: "tool_result"; tool_use_id: string; content?: string | TextBlock[] };

export interface AnthropicMessage {
  role: "user" | "assistant";
  content: string | RequestBlock[];
}

const isImageMediaType = (t: string): t is ImageMediaType =>
  (IMAGE_MEDIA_TYPES as readonly string[]).includes(t);
const DATA_URI = /^data:([^;,]+);base64,(.*)$/s;

/** OpenAI's explicit cache breakpoint on a part becomes `cache` on its block (capped: cache-breakpoints.ts). */
type Breakpoint = { prompt_cache_breakpoint?: { mode: "explicit" } | undefined };
const cached = (part: Breakpoint, cache: CacheControl): { cache_control?: CacheControl } =>
  part.prompt_cache_breakpoint ? { cache_control: cache } : {};

type Text = string | Array<{ type: "text"; text: string } & Breakpoint>;
const textBlocks = (content: Text, cache: CacheControl): TextBlock[] =>
  typeof content === "string"
    ? [{ type: "text", text: content }]
    : content.map((p) => ({ type: "text", text: p.text, ...cached(p, cache) }));

function imageBlock(url: string, provider: string, param: string): ImageBlock {
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  const m = DATA_URI.exec(url);
  if (!m) throw unsupportedParameter(provider, param, "images must be http(s) URLs or base64 data URIs");
  const [, mediaType = "", data = ""] = m;
  if (!isImageMediaType(mediaType)) {
    throw unsupportedParameter(
      provider,
      param,
      `media type '${mediaType}'; use image/jpeg, png, gif or webp`,
    );
  }
  return { type: "image", source: { type: "base64", media_type: mediaType, data } };
}

/**
 * A user message's blocks. Text that is empty or only whitespace, which OpenAI takes and Anthropic
 * refuses ("text content blocks must contain non-whitespace text"), is left out: it says nothing. A
 * message left with nothing comes back empty, for the caller to drop.
 */
function userBlocks(
  content: string | ContentPart[],
  i: number,
  provider: string,
  cache: CacheControl,
): string | RequestBlock[] {
  if (typeof content === "string") return content.trim() === "" ? [] : content;
  const said = content.flatMap((part, j) =>
    part.type === "text" && part.text.trim() === "" ? [] : [[part, j] as const],
  );
  return said.map(([part, j]): RequestBlock => {
    if (part.type === "text") return { type: "text", text: part.text, ...cached(part, cache) };
    if (part.type === "file") {
      const pdf = inlinePdf(part, provider, `messages[${i}].content[${j}]`);
      return {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: pdf.data },
        ...(pdf.filename !== undefined ? { title: pdf.filename } : {}),
        ...cached(part, cache),
      };
    }
    if (part.type === "input_audio")
      throw unsupportedParameter(provider, `messages[${i}].content[${j}]`, "Anthropic takes no audio input");
    const param = `messages[${i}].content[${j}].image_url`;
    // Anthropic has no resolution knob; only the default can be honoured.
    const detail = part.image_url.detail;
    if (detail && detail !== "auto") throw unsupportedParameter(provider, `${param}.detail`);
    return { ...imageBlock(part.image_url.url, provider, param), ...cached(part, cache) };
  });
}

/**
 * While thinking is on, Anthropic requires the thinking blocks of a turn that called tools back, in their
 * order, before the calls they led to; the gateway returned each run of them on the call it preceded
 * (response.ts `thinkingOf`), so each goes back right before its call, the first call's before the
 * turn's text. With thinking off they are left out, as Anthropic ignores them then.
 */
type AssistantCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];
const thinkingBefore = (call: AssistantCall | undefined): AnthropicThinkingBlock[] =>
  call?.extra_content?.anthropic?.thinking_blocks ?? [];

function assistantBlocks(
  m: Extract<ChatMessage, { role: "assistant" }>,
  i: number,
  opts: MessageOptions,
): RequestBlock[] {
  // Anthropic rejects text blocks of nothing but whitespace; OpenAI clients send `content: ""` next to
  // tool calls, and such a block says nothing.
  const text = m.content == null ? [] : spoken(textBlocks(m.content, opts.cache));
  // A past refusal is what the assistant said in that turn, so it stays in the transcript as text.
  if (text.length === 0 && m.refusal?.trim()) text.push({ type: "text", text: m.refusal });
  const tools = (m.tool_calls ?? []).map((call, k): RequestBlock => {
    let input: unknown;
    try {
      // A call without arguments may come back with none at all (`""`), as Gemini's mapper also takes.
      input = call.function.arguments.trim() === "" ? {} : JSON.parse(call.function.arguments);
    } catch {
      input = undefined;
    }
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      const param = `messages[${i}].tool_calls[${k}].function.arguments`;
      throw badRequest("Tool call arguments must be a JSON object.", param, "invalid_request_body");
    }
    return {
      type: "tool_use",
      id: anthropicToolId(call.id),
      name: call.function.name,
      input: input as Record<string, unknown>,
    };
  });
  if (!opts.thinking) return [...text, ...tools];
  const calls = m.tool_calls ?? [];
  return [
    ...thinkingBefore(calls[0]),
    ...text,
    ...tools.flatMap((block, k) => (k === 0 ? [block] : [...thinkingBefore(calls[k]), block])),
  ];
}

/**
 * A tool call id as Anthropic takes it: `^[a-zA-Z0-9_-]+$` (another is a 400). Ids other providers or
 * clients made (`functions.get_weather:0`, `call.1`) get their other characters replaced and a hash of
 * the original appended, so two ids never become one; the call and its result map alike.
 */
export function anthropicToolId(id: string): string {
  if (/^[a-zA-Z0-9_-]+$/.test(id)) return id;
  // FNV-1a (32-bit): a stable, dependency-free fingerprint; it only has to keep distinct ids distinct.
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return `${id.replace(/[^a-zA-Z0-9_-]/g, "_")}_${(h >>> 0).toString(16).padStart(8, "0")}`;
}

/** The blocks with something to say: Anthropic answers an empty or whitespace-only text block with 400. */
const spoken = (blocks: TextBlock[]): TextBlock[] => blocks.filter((b) => b.text.trim() !== "");

/**
 * A tool's result. Blank text (a tool that printed nothing) is left out, as Anthropic refuses a blank text
 * block; a result left with nothing goes without `content`, which Anthropic's `tool_result` makes
 * optional: the call still gets its answer, an empty one.
 */
function toolResult(id: string, content: Text, cache: CacheControl): RequestBlock {
  const said = typeof content === "string" ? content : spoken(textBlocks(content, cache));
  const block = { type: "tool_result" as const, tool_use_id: anthropicToolId(id) };
  const blank = typeof said === "string" ? said.trim() === "" : said.length === 0;
  return blank ? block : { ...block, content: said };
}

const asBlocks = (content: string | RequestBlock[]): RequestBlock[] =>
  typeof content === "string" ? [{ type: "text", text: content }] : content;

export interface MessageOptions {
  /** Thinking is on: thinking blocks go back with the tool calls they led to. */
  thinking: boolean;
  /** What a caller's cache breakpoint becomes. */
  cache: CacheControl;
}

/**
 * Splits OpenAI messages into Anthropic's top-level `system` and a strictly alternating user/assistant
 * list. System and developer messages are hoisted in order wherever they appear (mid-conversation
 * system turns are model-dependent on Anthropic; the top-level prompt works on every model). Tool
 * results become user turns, so merging same-role neighbours also puts all results of one assistant turn,
 * and any user text right after them, into the single user message Anthropic requires.
 */
export function toAnthropicMessages(
  messages: ChatMessage[],
  provider: string,
  opts: MessageOptions,
): { system: TextBlock[]; messages: AnthropicMessage[] } {
  const system: TextBlock[] = [];
  const out: AnthropicMessage[] = [];
  // The lists of turns made of merged ones: this function made them, so they take appends.
  const merged = new WeakSet<RequestBlock[]>();
  messages.forEach((m, i) => {
    if ("name" in m && m.name !== undefined && namesParticipant(m.role)) {
      // Anthropic has no participant names; dropping one would change what the model sees.
      throw unsupportedParameter(provider, `messages[${i}].name`);
    }
    let next: AnthropicMessage;
    switch (m.role) {
      case "system":
      case "developer":
        append(system, spoken(textBlocks(m.content, opts.cache)));
        return;
      case "user": {
        const content = userBlocks(m.content, i, provider, opts.cache);
        // A turn of blank text carries nothing; the turns around it merge, as for a blank assistant turn.
        if (content.length === 0) return;
        next = { role: "user", content };
        break;
      }
      case "assistant": {
        const blocks = assistantBlocks(m, i, opts);
        // A turn that said nothing (whitespace, or an empty refusal) carries nothing to the model.
        if (blocks.length === 0) return;
        next = { role: "assistant", content: blocks };
        break;
      }
      case "tool": {
        next = { role: "user", content: [toolResult(m.tool_call_id, m.content, opts.cache)] };
        break;
      }
    }
    const prev = out.at(-1);
    if (prev && prev.role === next.role) {
      // Appended in place, to a list of the merged turn's own: copying it for every turn merged would
      // make a run of many short turns (or of many tool results) quadratic in time.
      if (typeof prev.content === "string" || !merged.has(prev.content)) {
        prev.content = [...asBlocks(prev.content)];
        merged.add(prev.content);
      }
      for (const block of asBlocks(next.content)) prev.content.push(block);
    } else out.push(next);
  });
  // Anthropic refuses an empty `messages` (a conversation of system prompts only, which OpenAI takes):
  // refused here, before the call, so an alias can fall back to a target that takes it.
  if (out.length === 0)
    throw unsupportedParameter(
      provider,
      "messages",
      "it needs a user or assistant message with content (system prompts and blank messages are not one)",
    );
  return { system, messages: out };
}
