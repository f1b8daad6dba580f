import { readFileSync } from "node:fs";
import { type ChatRequest, chatRequest } from "../../../../core/api/chat-request.ts";
import { GatewayError } from "../../../../core/api/errors.ts";
import { parseSseTranscript, type SseEvent } from "../../../../core/api/sse-parser.ts";
import type { MapContext, ResponseMeta } from "../../../../core/providers/types.ts";

export const ctx: MapContext = { providerId: "gemini", model: "gemini-2.5-flash", apiKey: "test-key" };
export const meta: ResponseMeta = {
  id: "chatcmpl-gw-1",
  created: 1_700_000_000,
  model: "gemini-2.5-flash",
  provider: "gemini",
};

/** A request as the gateway accepts it: validated by the real schema, so tests cannot drift from it. */
export const chat = (fields: Partial<ChatRequest>): ChatRequest =>
  chatRequest.parse({ model: "gemini", messages: [{ role: "user", content: "Hi" }], ...fields });

/** What a mapper threw, reduced to what the caller sees. */
export function refusal(fn: () => unknown): { status: number; param: string | null; code: string | null } {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return { status: err.status, param: err.param, code: err.code };
    throw err;
  }
  throw new Error("expected the mapper to refuse");
}

export const transcriptText = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/transcripts/${name}`, import.meta.url), "utf8");

export const transcript = (name: string): SseEvent[] => parseSseTranscript(transcriptText(name));
