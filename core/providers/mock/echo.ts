import { createHash } from "node:crypto";
import type { ChatMessage } from "../../api/chat-request.ts";

export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    return m.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join(" ");
  }
  return "";
}

/** Words with their leading space, so concatenating the chunks restores the text exactly. */
export const splitTokens = (text: string): string[] => text.match(/\s*\S+/g) ?? [];

export const wordCount = (text: string): number => splitTokens(text).length;

/** Eight floats in [-1, 1] from a hash of the text: stable across runs. */
export function mockEmbedding(text: string): number[] {
  const digest = createHash("sha256").update(text).digest();
  return Array.from({ length: 8 }, (_, i) => Math.round((digest.readInt16BE(i * 2) / 32768) * 1e6) / 1e6);
}
