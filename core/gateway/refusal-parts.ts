import type { ChatMessage } from "../api/chat-request.ts";
import type { ChatRequestInput } from "../api/chat-request-input.ts";

type InputMessage = ChatRequestInput["messages"][number];
type AssistantInput = Extract<InputMessage, { role: "assistant" }>;
type Assistant = Extract<ChatMessage, { role: "assistant" }>;

export const hasRefusalParts = (m: InputMessage): m is AssistantInput =>
  m.role === "assistant" && Array.isArray(m.content) && m.content.some((p) => p.type === "refusal");

/**
 * An assistant turn with refusal parts (OpenAI's content may hold them) as the gateway reads it: the
 * text parts stay content, and the refusals, joined, are the message's `refusal`, which every provider
 * mapper carries (OpenAI takes the field as it takes the part).
 */
export function refusalsAsField(m: AssistantInput): Assistant {
  const parts = Array.isArray(m.content) ? m.content : [];
  const text = parts.flatMap((p) => (p.type === "text" ? [p] : []));
  const refusals = parts.flatMap((p) => (p.type === "refusal" ? [p.refusal] : []));
  const refusal = [...(m.refusal ? [m.refusal] : []), ...refusals].join("\n");
  return { ...m, content: text.length > 0 ? text : null, refusal };
}
