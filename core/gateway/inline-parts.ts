import type { ChatMessage, ChatRequest, ContentPart } from "../api/chat-request.ts";
import { badRequest } from "../api/errors.ts";
import { sha256Hex } from "../audit/chain.ts";

type PartType = "file" | "input_audio";

/** Where the request's first part of `type` is (`messages[i].content[j]`), or undefined if it has none. */
export function firstPart(req: ChatRequest, type: PartType): string | undefined {
  for (const [i, m] of req.messages.entries()) {
    if (m.role !== "user" || typeof m.content === "string") continue;
    const j = m.content.findIndex((p) => p.type === type);
    if (j >= 0) return `messages[${i}].content[${j}]`;
  }
  return undefined;
}

const UNBOUNDED = [
  { type: "file", name: "a file", code: "file" },
  { type: "input_audio", name: "audio", code: "audio" },
] as const;

/**
 * Files and audio can be neither bounded nor masked. A file's tokens are not bounded by its bytes (a
 * PDF's streams are compressed), nor are audio's (its seconds depend on its bitrate), so a budget could
 * not reserve their worst case; PII inside them cannot be redacted. Requests under a
 * budget, or of an org that redacts prompts, are refused with one (400, naming it).
 */
export function refuseUnboundedParts(req: ChatRequest, under: { budget: boolean; redaction: boolean }): void {
  if (!under.budget && !under.redaction) return;
  for (const { type, name, code } of UNBOUNDED) {
    const at = firstPart(req, type);
    if (at === undefined) continue;
    if (under.budget)
      throw badRequest(
        `The cost of ${name} has no upper bound, and this request is under a budget.`,
        at,
        `${code}_not_priced`,
      );
    throw badRequest(
      `PII inside ${name} cannot be redacted, and this org redacts prompts.`,
      at,
      `${code}_not_redactable`,
    );
  }
}

/** An inline payload as the audit keeps it: its SHA-256 and size. */
const digestOf = (kind: string, data: string) =>
  `[${kind} sha256:${sha256Hex(data)}, ${data.length} characters]`;

/** A part carrying its payload inline: a file, audio, or an image as a data URL. */
const isInline = (p: ContentPart): boolean =>
  p.type === "file" ||
  p.type === "input_audio" ||
  (p.type === "image_url" && p.image_url.url.startsWith("data:"));

const inlines = (req: ChatRequest): boolean =>
  req.messages.some((m) => m.role === "user" && typeof m.content !== "string" && m.content.some(isInline));

/**
 * The request as a sensitive org's audit chain keeps it: a file's data, audio, and an image sent inline (a
 * data URL), become their SHA-256 and size. Their contents cannot be redacted, and a document or a photo
 * would outgrow the chain's item size (DynamoDB's 400 KB); the digest still proves what was sent. Image
 * URLs are kept as they are.
 */
export function auditedRequest(req: ChatRequest): ChatRequest {
  if (!inlines(req)) return req;
  const messages = req.messages.map((m): ChatMessage => {
    if (m.role !== "user" || typeof m.content === "string") return m;
    const content = m.content.map((p) => {
      if (p.type === "file" && p.file.file_data !== undefined)
        return { ...p, file: { ...p.file, file_data: digestOf("file", p.file.file_data) } };
      if (p.type === "input_audio")
        return { ...p, input_audio: { ...p.input_audio, data: digestOf("audio", p.input_audio.data) } };
      if (p.type === "image_url" && p.image_url.url.startsWith("data:"))
        return { ...p, image_url: { ...p.image_url, url: digestOf("image", p.image_url.url) } };
      return p;
    });
    return { ...m, content };
  });
  return { ...req, messages };
}
