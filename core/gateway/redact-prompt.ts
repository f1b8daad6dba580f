import type { ChatMessage, ChatRequest } from "../api/chat-request.ts";
import type { EmbeddingsRequest } from "../api/embeddings-request.ts";
import { badRequest } from "../api/errors.ts";
import { distinctMasks, maskEntryKeys } from "../pii/mask-names.ts";
import { redactJsonText, redactNamed } from "../pii/redact.ts";
import { redactText } from "../pii/redact-text.ts";
import { maskSchema } from "./redact-schema.ts";

/**
 * For orgs with `redactPrompts`: masks PII and secrets in every text a prompt carries (message text, text
 * parts, participant names, past tool-call arguments and refusals, a prediction, end-user ids and
 * metadata, stop sequences, tool and response-format descriptions and schemas) before it leaves for a
 * provider. Returns the masked request (the request itself when nothing was masked) and how many spans
 * were masked, which the response reports in `x-gateway-redacted`.
 */
export function redactPrompt(req: ChatRequest): { request: ChatRequest; masked: number } {
  let masked = 0;
  const mask = (text: string): string => {
    const r = redactText(text);
    masked += r.count;
    return r.text;
  };
  const maskNamed = (key: string, value: string): string => {
    const r = redactNamed(key, value);
    masked += r.count;
    return r.text;
  };
  const callIds = distinctMasks(
    req.messages.flatMap((m) =>
      m.role === "tool"
        ? [m.tool_call_id]
        : m.role === "assistant"
          ? (m.tool_calls ?? []).map((t) => t.id)
          : [],
    ),
    mask,
  );
  const callId = (id: string): string => callIds.get(id) ?? id;
  // A past tool call's arguments are JSON, and must stay JSON once masked (redactJsonText).
  const maskJson = (text: string): string => {
    const r = redactJsonText(text);
    masked += r.count;
    return r.text;
  };
  // A JSON value (a tool's parameter schema) masked as the JSON it is: its string values (descriptions,
  // examples, enums) are prose or sample data that can name people; keys stay. Wrapped in a list, so a
  // lone string or number is read as JSON too: as text, `"a\n4111…"` would hide the card behind `\n`,
  // and a mask in it would break the JSON.
  const maskObject = <T>(value: T): T => {
    const r = redactJsonText(JSON.stringify([value]));
    masked += r.count;
    return r.count === 0 ? value : (JSON.parse(r.text) as [T])[0];
  };
  const messages = req.messages.map((m): ChatMessage => {
    let out = m;
    // Message text that is a JSON document (pasted data, a tool's result) is masked as JSON: its keys
    // label their values, and it stays valid JSON (a number under `phone` becomes a quoted mask).
    if (typeof m.content === "string") out = { ...m, content: maskJson(m.content) } as ChatMessage;
    else if (Array.isArray(m.content)) {
      const content = m.content.map((p) => (p.type === "text" ? { ...p, text: maskJson(p.text) } : p));
      out = { ...m, content } as ChatMessage;
    }
    // A participant's name is often a person's, or an address. A masked one keeps to the characters
    // OpenAI takes in a name (`^[a-zA-Z0-9_-]{1,64}$`): `[EMAIL]` becomes `_EMAIL_`.
    if ("name" in out && typeof out.name === "string") {
      const name = mask(out.name);
      if (name !== out.name)
        out = { ...out, name: name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) } as ChatMessage;
    }
    // A tool call's id is the caller's (or a provider's) text too; masked alike where the call made it
    // and where its result answers it, the two still pair, and ids that mask alike stay apart.
    if (out.role === "tool") return { ...out, tool_call_id: callId(out.tool_call_id) };
    if (out.role !== "assistant") return out;
    // A past turn's tool calls and refusal are text the provider reads back, as much as its content.
    const tool_calls = out.tool_calls?.map((t) => ({
      ...t,
      id: callId(t.id),
      function: { ...t.function, arguments: maskJson(t.function.arguments) },
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
    ...(req.safety_identifier != null ? { safety_identifier: mask(req.safety_identifier) } : {}),
    // OpenAI suggests a user's id for it.
    ...(req.prompt_cache_key != null ? { prompt_cache_key: mask(req.prompt_cache_key) } : {}),
    // Metadata goes to OpenAI as sent; teams tag requests with who made them, in keys as in values.
    ...(req.metadata
      ? {
          metadata: Object.fromEntries(
            // A value is read with its key as its label (`{"phone": "4155550132"}`), then the key masked.
            maskEntryKeys(
              Object.entries(req.metadata).map(([k, v]) => [k, maskNamed(k, v)] as const),
              (r) => {
                masked += r.count;
              },
            ),
          ),
        }
      : {}),
  };
  const request: ChatRequest = { ...req, ...ids, messages, ...definitions(req, mask, maskObject) };
  // The prediction is text the answer is expected to repeat: often the very document the prompt quotes.
  const p = req.prediction;
  const content = !p
    ? undefined
    : typeof p.content === "string"
      ? mask(p.content)
      : p.content.map((part) => ({ ...part, text: mask(part.text) }));
  // Nothing masked: the request itself, so that a mapping made of it before still holds (chat.ts).
  if (masked === 0) return { request: req, masked };
  return {
    request: p && content !== undefined ? { ...request, prediction: { ...p, content } } : request,
    masked,
  };
}

/**
 * The request's own texts besides its messages: stop sequences (often a name or an address the answer
 * must end at), tool descriptions and parameter schemas, a response format's description and schema.
 * Tool and format names are kept: they are identifiers the answer and `tool_choice` refer to.
 */
function definitions(
  req: ChatRequest,
  mask: (text: string) => string,
  maskObject: <T>(value: T) => T,
): Partial<ChatRequest> {
  const out: Partial<ChatRequest> = {};
  if (typeof req.stop === "string") out.stop = mask(req.stop);
  else if (Array.isArray(req.stop)) out.stop = req.stop.map(mask);
  if (req.tools)
    out.tools = req.tools.map(({ function: { description, parameters, ...fn }, ...tool }) => ({
      ...tool,
      function: {
        ...fn,
        ...(description !== undefined ? { description: mask(description) } : {}),
        ...(parameters !== undefined ? { parameters: maskSchema(parameters, mask, maskObject) } : {}),
      },
    }));
  const format = req.response_format;
  if (format?.type === "json_schema") {
    const { description, schema, name, ...js } = format.json_schema;
    const maskedName = mask(name);
    out.response_format = {
      ...format,
      json_schema: {
        ...js,
        // The format's name, in the characters OpenAI takes in one (as a participant's name is).
        name: maskedName === name ? name : maskedName.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64),
        ...(description !== undefined ? { description: mask(description) } : {}),
        ...(schema !== undefined ? { schema: maskSchema(schema, mask, maskObject) } : {}),
      },
    };
  }
  return out;
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
  const request: EmbeddingsRequest = { ...req, input: typeof input === "string" ? out[0]! : out };
  // The end-user id goes to the provider too; teams often use an email address as one.
  if (req.user !== undefined) {
    const user = redactText(req.user);
    masked += user.count;
    request.user = user.text;
  }
  return { request, masked };
}
