import type { ChatMessage, ChatRequest } from "../api/chat-request.ts";
import { badRequest } from "../api/errors.ts";
import { sha256Hex } from "../audit/chain.ts";

/** Where the request's first `file` part is (`messages[i].content[j]`), or undefined if it has none. */
export function firstFilePart(req: ChatRequest): string | undefined {
  for (const [i, m] of req.messages.entries()) {
    if (m.role !== "user" || typeof m.content === "string") continue;
    const j = m.content.findIndex((p) => p.type === "file");
    if (j >= 0) return `messages[${i}].content[${j}]`;
  }
  return undefined;
}

/**
 * A file can be neither bounded nor masked: its tokens are not bounded by its bytes (a PDF's streams
 * are compressed), so a budget could not reserve its worst case; and PII inside it cannot be redacted.
 * Requests under a budget, or of an org that redacts prompts, are refused with one (400, naming it).
 */
export function refuseFiles(req: ChatRequest, under: { budget: boolean; redaction: boolean }): void {
  if (!under.budget && !under.redaction) return;
  const at = firstFilePart(req);
  if (at === undefined) return;
  if (under.budget)
    throw badRequest(
      "A file's cost has no upper bound, and this request is under a budget.",
      at,
      "file_not_priced",
    );
  throw badRequest(
    "PII inside a file cannot be redacted, and this org redacts prompts.",
    at,
    "file_not_redactable",
  );
}

/** An inline payload as the audit keeps it: its SHA-256 and size. */
const digestOf = (kind: string, data: string) =>
  `[${kind} sha256:${sha256Hex(data)}, ${data.length} characters]`;

const inlines = (req: ChatRequest): boolean =>
  req.messages.some(
    (m) =>
      m.role === "user" &&
      typeof m.content !== "string" &&
      m.content.some(
        (p) => p.type === "file" || (p.type === "image_url" && p.image_url.url.startsWith("data:")),
      ),
  );

/**
 * The request as a sensitive org's audit chain keeps it: a file's data, and an image sent inline (a data
 * URL), become their SHA-256 and size. Their contents cannot be redacted, and a document or a photo
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
      if (p.type === "image_url" && p.image_url.url.startsWith("data:"))
        return { ...p, image_url: { ...p.image_url, url: digestOf("image", p.image_url.url) } };
      return p;
    });
    return { ...m, content };
  });
  return { ...req, messages };
}
