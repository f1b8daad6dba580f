import type { ContentPart } from "../api/chat-request.ts";
import { unsupportedParameter } from "../api/errors.ts";

export type FilePart = Extract<ContentPart, { type: "file" }>;

const PDF_DATA_URL = /^data:application\/pdf;base64,(.+)$/s;

/**
 * A `file` part as Anthropic and Gemini can take it: a PDF sent inline, as OpenAI's `file_data` data URL
 * carries it. An OpenAI file id names an upload only OpenAI can read; other file types have no
 * mapping both providers share. Either is a 400 naming the field.
 */
export function inlinePdf(
  part: FilePart,
  provider: string,
  param: string,
): { data: string; filename?: string } {
  if (part.file.file_id !== undefined)
    throw unsupportedParameter(
      provider,
      `${param}.file.file_id`,
      "an OpenAI upload; send the file as file_data",
    );
  const m = PDF_DATA_URL.exec(part.file.file_data ?? "");
  if (!m)
    throw unsupportedParameter(provider, `${param}.file.file_data`, "a PDF as data:application/pdf;base64,…");
  return { data: m[1]!, ...(part.file.filename !== undefined ? { filename: part.file.filename } : {}) };
}
