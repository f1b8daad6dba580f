import type { ChatMessage, ChatRequest } from "../api/chat-request.ts";
import { redactText } from "../pii/redact.ts";

/**
 * For orgs with `redactPrompts`: masks PII and secrets in every text a prompt carries (message text, text
 * parts, past tool-call arguments and refusals, a prediction, end-user ids) before it leaves for a
 * provider. Returns the masked request and how many spans were masked, which the response reports in
 * `x-gateway-redacted`.
 */
export function redactPrompt(req: ChatRequest): { request: ChatRequest; masked: number } {
  let masked = 0;
  const mask = (text: string): string => {
    const r = redactText(text);
    masked += Object.values(r.found).reduce((a, b) => a + b, 0);
    return r.text;
  };
  const messages = req.messages.map((m): ChatMessage => {
    let out = m;
    if (typeof m.content === "string") out = { ...m, content: mask(m.content) } as ChatMessage;
    else if (Array.isArray(m.content)) {
      const content = m.content.map((p) => (p.type === "text" ? { ...p, text: mask(p.text) } : p));
      out = { ...m, content } as ChatMessage;
    }
    if (out.role !== "assistant") return out;
    // A past turn's tool calls and refusal are text the provider reads back, as much as its content.
    const tool_calls = out.tool_calls?.map((t) => ({
      ...t,
      function: { ...t.function, arguments: mask(t.function.arguments) },
    }));
    const refusal = typeof out.refusal === "string" ? mask(out.refusal) : out.refusal;
    return {
      ...out,
      ...(tool_calls ? { tool_calls } : {}),
      ...(refusal !== undefined ? { refusal } : {}),
    };
  });
  // End-user ids go to the provider too (OpenAI's `user`, Anthropic's metadata.user_id), and teams often
  // use an email address as one.
  const ids = {
    ...(req.user !== undefined ? { user: mask(req.user) } : {}),
    ...(req.safety_identifier !== undefined ? { safety_identifier: mask(req.safety_identifier) } : {}),
  };
  // The prediction is text the answer is expected to repeat: often the very document the prompt quotes.
  const p = req.prediction;
  if (!p) return { request: { ...req, ...ids, messages }, masked };
  const content =
    typeof p.content === "string"
      ? mask(p.content)
      : p.content.map((part) => ({ ...part, text: mask(part.text) }));
  return { request: { ...req, ...ids, messages, prediction: { ...p, content } }, masked };
}
