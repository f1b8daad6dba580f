import type { ChatMessage, ChatRequest, EmbeddingsRequest } from "../api/chat-request.ts";
import { badRequest } from "../api/errors.ts";
import { redactText } from "../pii/redact.ts";

/**
 * A past tool call's arguments, masked as the JSON they are: string values masked in place, and a
 * number that is itself PII (a card number sent as a number) replaced by its mask as a string. Masking
 * the raw text would turn `{"card":4111111111111111}` into `{"card":[CARD]}`, which is not JSON, and
 * providers refuse it. Arguments that are not JSON are masked as text.
 */
function maskArguments(args: string, mask: (text: string) => string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return mask(args);
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return mask(v);
    if (typeof v === "number") {
      const text = String(v);
      const masked = mask(text);
      return masked === text ? v : masked;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return JSON.stringify(walk(parsed));
}

/**
 * For orgs with `redactPrompts`: masks PII and secrets in every text a prompt carries (message text, text
 * parts, participant names, past tool-call arguments and refusals, a prediction, end-user ids and
 * metadata) before it leaves for a provider. Returns the masked request and how many spans were masked,
 * which the response reports in `x-gateway-redacted`.
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
    // A participant's name is often a person's, or an address. A masked one keeps to the characters
    // OpenAI takes in a name (`^[a-zA-Z0-9_-]{1,64}$`): `[EMAIL]` becomes `_EMAIL_`.
    if ("name" in out && typeof out.name === "string") {
      const name = mask(out.name);
      if (name !== out.name)
        out = { ...out, name: name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) } as ChatMessage;
    }
    if (out.role !== "assistant") return out;
    // A past turn's tool calls and refusal are text the provider reads back, as much as its content.
    const tool_calls = out.tool_calls?.map((t) => ({
      ...t,
      function: { ...t.function, arguments: maskArguments(t.function.arguments, mask) },
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
    // Metadata goes to OpenAI as sent; teams tag requests with who made them.
    ...(req.metadata
      ? { metadata: Object.fromEntries(Object.entries(req.metadata).map(([k, v]) => [k, mask(v)])) }
      : {}),
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

/**
 * An embeddings request's texts, masked for orgs with `redactPrompts`: they leave for a provider as much
 * as a prompt does. Token ids cannot be read for personal data, so a request of them is refused (400
 * `tokens_not_redactable`), as a file is for chat.
 */
export function redactEmbeddingsInput(req: EmbeddingsRequest): {
  request: EmbeddingsRequest;
  masked: number;
} {
  const input = req.input;
  const texts = typeof input === "string" ? [input] : input;
  if (!texts.every((t): t is string => typeof t === "string"))
    throw badRequest(
      "Token ids cannot be checked for personal data, and this organization redacts prompts; send text.",
      "input",
      "tokens_not_redactable",
    );
  let masked = 0;
  const out = texts.map((t) => {
    const r = redactText(t);
    masked += r.count;
    return r.text;
  });
  return { request: { ...req, input: typeof input === "string" ? out[0]! : out }, masked };
}
