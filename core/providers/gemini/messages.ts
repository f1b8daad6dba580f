import type { ChatMessage, ContentPart } from "../../api/chat-request.ts";
import { badRequest, unsupportedParameter } from "../../api/errors.ts";
import { append } from "../append.ts";
import { inlinePdf } from "../file-part.ts";
import { namesParticipant } from "../participant-names.ts";
import { geminiGeneration } from "./generation.ts";

/** Gemini `Part` / `Content` as we send them (camelCase JSON, like the SDK's Developer API wire). */
export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { fileUri: string; mimeType: string } }
  | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

export interface GeminiContents {
  systemInstruction?: { parts: GeminiPart[] };
  contents: GeminiContent[];
}

const PROVIDER = "gemini";

/** Gemini requires a MIME type for URL images and cannot sniff it, so only known extensions pass. */
const IMAGE_MIME: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const texts = (content: string | Array<{ text: string }>): string[] =>
  typeof content === "string" ? [content] : content.map((p) => p.text);

/**
 * Gemini answers an empty text part with 400 ("Unable to submit request because it has an empty text
 * parameter"), where OpenAI takes `content: ""` and `{"type": "text", "text": ""}`, which say nothing:
 * they are left out.
 */
const said = (text: string): boolean => text !== "";

type UserContent = Extract<ChatMessage, { role: "user" }>["content"];

/** A user message's parts, empty text left out; a message of nothing but that leaves no turn (push). */
function userParts(content: UserContent, i: number): GeminiPart[] {
  if (typeof content === "string") return said(content) ? [{ text: content }] : [];
  return content.flatMap((p, j) =>
    p.type === "text" && !said(p.text) ? [] : [userPart(p, `messages[${i}].content[${j}]`)],
  );
}

/**
 * What an assistant turn said, as text parts. OpenAI clients send `content: ""` next to tool calls, and
 * a refused turn comes back with `refusal` set and `content` null, or blank where a client filled it in:
 * the refusal is then what the model said, and stays in the history as text, as for Anthropic.
 */
function assistantText(m: Extract<ChatMessage, { role: "assistant" }>): GeminiPart[] {
  const text = m.content == null ? [] : texts(m.content).filter(said);
  const blank = text.every((t) => t.trim() === "");
  if (blank && m.refusal?.trim()) return [{ text: m.refusal }];
  return text.map((t) => ({ text: t }));
}

function imagePart(url: string, param: string): GeminiPart {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) {
    // An image part holds an image; Gemini would take a text/plain "image" as the text it is.
    if (!data[1]!.startsWith("image/"))
      throw unsupportedParameter(PROVIDER, param, `media type '${data[1]}'; an image_url holds an image`);
    return { inlineData: { mimeType: data[1]!, data: data[2]! } };
  }
  if (/^https?:\/\//i.test(url)) {
    let ext = "";
    try {
      ext = new URL(url).pathname.split(".").pop()?.toLowerCase() ?? "";
    } catch {
      // Unparseable URL: falls through to the refusal below.
    }
    const mimeType = IMAGE_MIME[ext];
    if (mimeType) return { fileData: { fileUri: url, mimeType } };
  }
  throw unsupportedParameter(
    PROVIDER,
    param,
    "images must be base64 data URIs or http(s) URLs ending in .jpg, .jpeg, .png, .gif or .webp",
  );
}

function userPart(part: ContentPart, param: string): GeminiPart {
  if (part.type === "text") return { text: part.text };
  // Gemini takes audio inline like any media (its audio/wav and audio/mp3 types).
  if (part.type === "input_audio")
    return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
  if (part.type === "file")
    return { inlineData: { mimeType: "application/pdf", data: inlinePdf(part, PROVIDER, param).data } };
  // Gemini's per-part media resolution is not in v1beta, so a non-default detail cannot be honoured.
  if (part.image_url.detail && part.image_url.detail !== "auto") {
    throw unsupportedParameter(PROVIDER, `${param}.image_url.detail`, "only 'auto' is supported");
  }
  return imagePart(part.image_url.url, `${param}.image_url`);
}

/** OpenAI sends arguments as a JSON string; Gemini wants the object. An empty string means "no args". */
function parseArgs(args: string, param: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    parsed = undefined;
  }
  if (!isPlainObject(parsed))
    throw badRequest("Tool call arguments must be a JSON object.", param, "invalid_request_body");
  return parsed;
}

/**
 * The tool's output is sent as the object it already is, or wrapped so Gemini receives an object. An
 * empty output becomes `{ content: "" }`: an empty value in the response object, not the empty text part
 * Gemini refuses.
 */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // Not JSON: wrapped below.
  }
  return { content: text };
}

/**
 * Gemini 3 and later reject a replayed `functionCall` part without the `thoughtSignature` the model gave
 * it (400 "Function call is missing a thought_signature"). The gateway returns each signature with its
 * call (`extra_content.google.thought_signature`, as Google's OpenAI-compatible endpoint does), so a
 * client that replays the assistant message unchanged sends it back, and it goes back on that part.
 * A history that carries no signature at all (written by hand, by another model, or by a client that
 * drops unknown fields) gets the value Google documents for history it did not generate ("Thought
 * signatures": `skip_thought_signature_validator`): the model then continues without its earlier
 * reasoning state. Gemini 2.x does not check.
 */
export const REPLAYED_CALL_SIGNATURE = "skip_thought_signature_validator";

/** Whether `model` checks thought signatures on replayed calls: Gemini 3 and every later generation. */
export const checksCallSignatures = (model: string): boolean => (geminiGeneration(model) ?? 0) >= 3;

/**
 * The messages with their indices, in the order they are mapped: each run of consecutive tool results
 * sorted by the order of the calls they answer. Chat Completions pairs a result with its call by
 * `tool_call_id`, so a client that runs tools concurrently appends results as they finish; Gemini pairs
 * `functionResponse` parts with the turn's `functionCall` parts by name and position ("Function
 * calling", parallel calls), which for two calls of one function is position alone. A result whose call
 * is unknown sorts last and is refused when mapped.
 */
function inCallOrder(messages: ChatMessage[]): Array<[ChatMessage, number]> {
  // Over the whole conversation: a later call with a reused id is the one a result after it answers.
  const callOrder = new Map<string, number>();
  let calls = 0;
  const rank = (m: ChatMessage) =>
    (m.role === "tool" ? callOrder.get(m.tool_call_id) : undefined) ?? Number.MAX_SAFE_INTEGER;
  const ordered: Array<[ChatMessage, number]> = [];
  let results: Array<[ChatMessage, number]> = [];
  const flush = () => {
    append(
      ordered,
      results.sort(([a], [b]) => rank(a) - rank(b)),
    );
    results = [];
  };
  messages.forEach((m, i) => {
    if (m.role === "tool") {
      results.push([m, i]);
      return;
    }
    flush();
    if (m.role === "assistant") for (const t of m.tool_calls ?? []) callOrder.set(t.id, calls++);
    ordered.push([m, i]);
  });
  flush();
  return ordered;
}

/**
 * Maps the conversation. System and developer messages become `systemInstruction` wherever they appear
 * (Gemini has one instruction slot, not positional system turns). Tool results become user turns with
 * `functionResponse` parts, named by looking the id up in earlier assistant tool calls, in the order of
 * the calls (inCallOrder), since Gemini pairs calls and results by name and order. Call ids are not
 * sent: Google's API surfaces differ on `id` in request parts (some refuse it as an unknown field), and
 * most ids in a history are not Gemini's own (the gateway makes them when Gemini gives none, other
 * providers make theirs), so they could not pair anything. Consecutive same-role turns merge, as Gemini
 * expects alternating turns.
 */
export function toGeminiContents(messages: ChatMessage[], model: string): GeminiContents {
  const checked = checksCallSignatures(model);
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  const push = (role: GeminiContent["role"], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) append(last.parts, parts);
    else contents.push({ role, parts });
  };

  inCallOrder(messages).forEach(([m, i]) => {
    // Gemini has no participant names; dropping one would change what the model is told.
    if ("name" in m && m.name !== undefined && namesParticipant(m.role)) {
      throw unsupportedParameter(PROVIDER, `messages[${i}].name`, "Gemini has no participant names");
    }
    switch (m.role) {
      case "system":
      case "developer":
        // An empty system text says nothing, and Gemini refuses an empty text part.
        append(
          system,
          texts(m.content).flatMap((text) => (text.trim() === "" ? [] : [{ text }])),
        );
        return;
      case "user":
        push("user", userParts(m.content, i));
        return;
      case "assistant": {
        const parts = assistantText(m);
        const calls = m.tool_calls ?? [];
        // Of parallel calls Gemini signs only the first; a message with any signature is replayed as given.
        const signed = calls.some((t) => t.extra_content?.google?.thought_signature);
        calls.forEach((t, k) => {
          callNames.set(t.id, t.function.name);
          const args = parseArgs(t.function.arguments, `messages[${i}].tool_calls[${k}].function.arguments`);
          const given = t.extra_content?.google?.thought_signature;
          const thoughtSignature = given ?? (checked && !signed ? REPLAYED_CALL_SIGNATURE : undefined);
          parts.push({
            functionCall: { name: t.function.name, args },
            ...(thoughtSignature ? { thoughtSignature } : {}),
          });
        });
        push("model", parts);
        return;
      }
      case "tool": {
        const name = callNames.get(m.tool_call_id);
        if (name === undefined) {
          throw badRequest(
            `Tool message refers to unknown tool_call_id '${m.tool_call_id}'.`,
            `messages[${i}].tool_call_id`,
          );
        }
        push("user", [{ functionResponse: { name, response: toolResponse(texts(m.content).join("")) } }]);
        return;
      }
    }
  });
  // Gemini refuses empty `contents` (a conversation of system prompts only, which OpenAI takes): refused
  // here, before the call, so an alias can fall back to a target that takes it.
  if (contents.length === 0)
    throw unsupportedParameter(
      PROVIDER,
      "messages",
      "it needs a user or assistant message with content (system prompts and blank messages are not one)",
    );
  return system.length > 0 ? { systemInstruction: { parts: system }, contents } : { contents };
}
