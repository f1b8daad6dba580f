/** Anthropic Messages simulator (base URL `http://127.0.0.1:PORT`, POST /v1/messages). */
import type { Ctx, ProviderSpec } from "./server.ts";
import { startServer } from "./server.ts";
import type { Simulator, SimulatorOptions } from "./types.ts";
import type { Finish } from "./util.ts";
import { buildReply, hex, isRecord, partsText, splitChars } from "./util.ts";
import type { SseEvent } from "./write.ts";
import { sendJson, writeStream } from "./write.ts";

type Json = Record<string, unknown>;

const ERRORS: Record<number, [type: string, message: string]> = {
  400: ["invalid_request_error", "Invalid request."],
  401: ["authentication_error", "invalid x-api-key"],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "Not Found"],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: ["rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."],
  500: ["api_error", "Internal server error"],
  529: ["overloaded_error", "Overloaded"],
};

const STOP: Record<Finish, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

const requestId = (ctx: Ctx): string => `req_011CS${hex(`an${ctx.requestIndex}`, 20)}`;

function headers(ctx: Ctx): Record<string, string> {
  return {
    "request-id": requestId(ctx),
    "anthropic-organization-id": "00000000-0000-0000-0000-000000000000",
  };
}

function sendError(ctx: Ctx, status: number, message?: string): void {
  const [type, defMessage] = ERRORS[status] ?? ["api_error", `HTTP ${status}`];
  const payload = {
    type: "error",
    error: { type, message: message ?? defMessage },
    request_id: requestId(ctx),
  };
  sendJson(ctx, status, payload, headers(ctx));
}

/** Anthropic's in-stream error event (`event: error`), e.g. an overload after `message_start`. */
function streamError(_ctx: Ctx, status = 529): SseEvent {
  const [type, message] = ERRORS[status] ?? ["api_error", `HTTP ${status}`];
  return { event: "error", data: JSON.stringify({ type: "error", error: { type, message } }) };
}

function validate(ctx: Ctx, body: Json): string | null {
  if (typeof body.model !== "string") return "model: Field required";
  if (typeof body.max_tokens !== "number") return "max_tokens: Field required";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  const msgs = body.messages as unknown[];
  const last = msgs.at(-1);
  if (isRecord(last) && last.role === "assistant" && NO_PREFILL.test(String(body.model)))
    return "This model does not support assistant message prefill. The conversation must end with a user message.";
  const cap = outputCapProblem(body);
  if (cap !== null) return cap;
  const blank = blankProblem(body);
  if (blank !== null) return blank;
  const schema = schemaProblem(body);
  if (schema !== null) return schema;
  const toolId = toolIdProblem(body);
  if (toolId !== null) return toolId;
  const sampling = samplingProblem(body);
  if (sampling !== null) return sampling;
  const thinking = thinkingProblem(body);
  if (thinking !== null) return thinking;
  const cache = cacheProblem(body);
  if (cache !== null) return cache;
  return ctx.rawBody.length > 0 ? null : "Empty request body";
}

/**
 * Signatures this simulator hands out: base64 of 48 hex digits, bound to the block that follows the
 * thinking (the tool call it led to, or the message), so a block sent back out of its place fails as
 * a modified one does at Anthropic.
 */
const signFor = (anchor: string): string => Buffer.from(hex(`sig:${anchor}`, 48)).toString("base64");
const isOurSignature = (s: unknown): boolean =>
  typeof s === "string" && /^[0-9a-f]{48}$/.test(Buffer.from(s, "base64").toString("latin1"));

/** A thinking block in a turn sent back: ours, and, when a tool call follows it, signed for that call. */
function intact(content: unknown[], at: number): boolean {
  const b = content[at];
  if (!isRecord(b) || !isOurSignature(b.signature)) return false;
  const next = content.slice(at + 1).find((c) => isRecord(c) && c.type === "tool_use");
  return !isRecord(next) || b.signature === signFor(String(next.id));
}

/** Every block carrying `cache_control`: tools, system, message blocks and tool_result content. */
function cacheMarks(body: Json): Json[] {
  const marks: Json[] = [];
  const visit = (blocks: unknown): void => {
    if (!Array.isArray(blocks)) return;
    for (const b of blocks) {
      if (!isRecord(b)) continue;
      if (isRecord(b.cache_control)) marks.push(b.cache_control);
      if (b.type === "tool_result") visit(b.content);
    }
  };
  visit(body.tools);
  visit(body.system);
  for (const m of Array.isArray(body.messages) ? body.messages : []) if (isRecord(m)) visit(m.content);
  return marks;
}

/** Prompt caching's limits: at most 4 breakpoints, each `ephemeral` with a TTL of 5m or 1h. */
function cacheProblem(body: Json): string | null {
  const marks = cacheMarks(body);
  if (marks.length > 4)
    return `A maximum of 4 blocks with cache_control may be provided. Found ${marks.length}.`;
  for (const c of marks) {
    if (c.type !== "ephemeral") return "cache_control.type: Input should be 'ephemeral'";
    if (c.ttl !== undefined && c.ttl !== "5m" && c.ttl !== "1h")
      return "cache_control.ttl: Input should be '5m' or '1h'";
  }
  return null;
}

/** Claude 4.6 and later take adaptive thinking; from Opus 4.7 (and every 5.x, Fable, Mythos) only that. */
const ADAPTIVE_ONLY = /claude-(opus-4-[7-9]|(opus|sonnet|haiku)-[5-9]|fable|mythos)/;
const ADAPTIVE_TOO = /claude-(opus|sonnet)-4-6/;
/** From Opus 4.1 on, a model takes temperature or top_p, not both. */
const ONE_SAMPLER = /claude-((opus|sonnet|haiku)-4-[1-9](?!\d)|(opus|sonnet|haiku)-[5-9]|fable|mythos)/;
/** Opus 4.6 and every later model end a conversation only with a user turn (Sonnet 4.6 still continues one). */
const NO_PREFILL = /claude-(opus-4-6|opus-4-[7-9]|(opus|sonnet|haiku)-[5-9]|fable|mythos)/;
/** Tool call ids are `^[a-zA-Z0-9_-]+$`, and unique across the whole conversation. */
function toolIdProblem(body: Json): string | null {
  const seen = new Set<string>();
  for (const [i, m] of (body.messages as unknown[]).entries()) {
    const content = isRecord(m) && Array.isArray(m.content) ? (m.content as unknown[]) : [];
    for (const [j, b] of content.entries()) {
      if (!isRecord(b) || b.type !== "tool_use") continue;
      const id = String(b.id);
      if (!/^[a-zA-Z0-9_-]+$/.test(id))
        return `messages.${i}.content.${j}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`;
      if (seen.has(id)) return `messages.${i}.content.${j}: \`tool_use\` ids must be unique`;
      seen.add(id);
    }
  }
  return null;
}

/**
 * Each model's most output tokens (Anthropic's models overview): Opus 4 and 4.1 32 000; Sonnet 4 and
 * 4.5, Haiku 4.5, Opus 4.5 and Sonnet 3.7 64 000; Claude 4.6 and every later model 128 000. Other ids
 * (`claude-sim`) are not checked.
 */
const OUTPUT_CAPS: Array<[RegExp, number]> = [
  [/claude-opus-4-(1(?!\d)|\d{8})/, 32_000],
  [/claude-(opus-4-(6|7|8|9)|sonnet-4-6|(opus|sonnet|haiku)-[5-9]|fable|mythos)/, 128_000],
  [/claude-((sonnet|haiku|opus)-4-5|sonnet-4-\d{8}|3-7-sonnet)/, 64_000],
];

/** A `max_tokens` above the model's output cap: "max_tokens: 36864 > 32000, which is the maximum …". */
function outputCapProblem(body: Json): string | null {
  const model = String(body.model);
  const cap = OUTPUT_CAPS.find(([re]) => re.test(model))?.[1];
  const max = body.max_tokens as number;
  return cap !== undefined && max > cap
    ? `max_tokens: ${max} > ${cap}, which is the maximum allowed number of output tokens for ${model}`
    : null;
}

/**
 * Constrained decoding's JSON Schema limits (structured outputs docs, "JSON Schema limitations"), on
 * `output_config.format.schema` and strict tools' `input_schema`: no numeric, string-length or array
 * bounds beyond minItems 0 or 1, only the listed formats, and every object closed with
 * `additionalProperties: false`. Anthropic's messages name the type and the property.
 */
const UNSUPPORTED_KEYWORDS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
];
const FORMATS = ["date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"];

function schemaNodeProblem(node: unknown): string | null {
  if (!isRecord(node)) return null;
  const type = Array.isArray(node.type) ? node.type.join("|") : String(node.type ?? "any");
  const bad = UNSUPPORTED_KEYWORDS.find((k) => k in node);
  if (bad) return `For '${type}' type, property '${bad}' is not supported`;
  if (typeof node.minItems === "number" && node.minItems > 1)
    return "For 'array' type, 'minItems' values other than 0 or 1 are not supported";
  if (typeof node.format === "string" && !FORMATS.includes(node.format))
    return `String format '${node.format}' is not supported`;
  const isObject = node.type === "object" || (Array.isArray(node.type) && node.type.includes("object"));
  if (isObject && node.additionalProperties !== false)
    return "For 'object' type, 'additionalProperties' must be explicitly set to false";
  const children = [
    ...Object.values(isRecord(node.properties) ? node.properties : {}),
    ...Object.values(isRecord(node.$defs) ? node.$defs : {}),
    node.items,
    ...(["anyOf", "allOf"] as const).flatMap((k) => (Array.isArray(node[k]) ? (node[k] as unknown[]) : [])),
  ];
  for (const child of children) {
    const problem = schemaNodeProblem(child);
    if (problem !== null) return problem;
  }
  return null;
}

function schemaProblem(body: Json): string | null {
  const format = isRecord(body.output_config) ? body.output_config.format : undefined;
  if (isRecord(format)) {
    const problem = schemaNodeProblem(format.schema);
    if (problem !== null) return `output_config.format.schema: ${problem}`;
  }
  for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    if (!isRecord(tool) || tool.strict !== true) continue;
    const problem = schemaNodeProblem(tool.input_schema);
    if (problem !== null) return `tools.${i}.custom.input_schema: ${problem}`;
  }
  return null;
}

/**
 * Anthropic refuses text that is empty or only whitespace: in text blocks (tool results' included) and
 * in stop sequences.
 */
function blankProblem(body: Json): string | null {
  const blank = (b: unknown): boolean =>
    isRecord(b) &&
    ((b.type === "text" && String(b.text ?? "").trim() === "") ||
      (b.type === "tool_result" && Array.isArray(b.content) && b.content.some(blank)));
  if (Array.isArray(body.system) && body.system.some(blank))
    return "system: text content blocks must contain non-whitespace text";
  for (const m of body.messages as unknown[]) {
    const content = isRecord(m) ? m.content : undefined;
    if (
      (typeof content === "string" && content.trim() === "") ||
      (Array.isArray(content) && content.some(blank))
    )
      return "messages: text content blocks must contain non-whitespace text";
  }
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.some((s) => String(s).trim() === ""))
    return "stop_sequences: each stop sequence must contain non-whitespace";
  return null;
}

/**
 * Opus 4.7 removed the sampling parameters, and the models after it never had them: Anthropic answers
 * any of them with 400. (Anthropic lets the default through; this simulator refuses the field itself,
 * which is stricter and catches a gateway that forwards it.)
 */
function samplingProblem(body: Json): string | null {
  if (ONE_SAMPLER.test(String(body.model)) && body.temperature !== undefined && body.top_p !== undefined)
    return "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";
  if (!ADAPTIVE_ONLY.test(String(body.model))) return null;
  const sent = ["temperature", "top_p", "top_k"].find((f) => body[f] !== undefined);
  return sent ? `\`${sent}\` is deprecated for this model.` : null;
}

const EFFORTS = ["low", "medium", "high", "xhigh", "max"];
/** xhigh arrived with Opus 4.7 (Anthropic's effort docs); Claude 4.6 and Mythos Preview lack it. */
const NO_XHIGH = /claude-((opus|sonnet)-4-6|mythos-preview)/;

/**
 * Thinking's rules, as the Messages API enforces them per model. Manual extended thinking
 * (`enabled`): not on adaptive-only models; a budget of at least 1 024 below max_tokens; and, while a
 * tool loop is open (the last assistant turn called tools), that turn must start with its thinking block.
 * Adaptive: only on 4.6 and later, with a known `output_config.effort`. Either way temperature 1 only,
 * and any thinking block sent back must carry its signature intact.
 */
function thinkingProblem(body: Json): string | null {
  const t = body.thinking;
  if (!isRecord(t) || (t.type !== "enabled" && t.type !== "adaptive")) return null;
  const model = String(body.model);
  if (t.type === "enabled") {
    if (ADAPTIVE_ONLY.test(model))
      return "thinking.type.enabled is not supported for this model. Use thinking.type.adaptive and output_config.effort to control thinking behavior.";
    const budget = t.budget_tokens;
    if (typeof budget !== "number" || budget < 1024)
      return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
    if (budget >= (body.max_tokens as number))
      return "`max_tokens` must be greater than `thinking.budget_tokens`.";
  } else {
    if (!ADAPTIVE_ONLY.test(model) && !ADAPTIVE_TOO.test(model))
      return "thinking.type.adaptive is not supported for this model.";
    const effort = isRecord(body.output_config) ? body.output_config.effort : undefined;
    if (effort !== undefined && !EFFORTS.includes(String(effort)))
      return `output_config.effort: Input should be ${EFFORTS.map((e) => `'${e}'`).join(", ")}`;
    if (effort === "xhigh" && NO_XHIGH.test(model))
      return "output_config.effort 'xhigh' is not supported by this model. Use effort 'max' or below.";
  }
  if (body.temperature !== undefined && body.temperature !== 1)
    return "`temperature` may only be set to 1 when thinking is enabled.";
  const msgs = body.messages as unknown[];
  // No prefill while thinking: a final assistant message has to open with thinking.
  const final = msgs.at(-1);
  if (isRecord(final) && final.role === "assistant") {
    const first = Array.isArray(final.content) ? final.content[0] : undefined;
    if (!isRecord(first) || (first.type !== "thinking" && first.type !== "redacted_thinking"))
      return `messages.${msgs.length - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${isRecord(first) ? String(first.type) : "text"}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block. We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`;
  }
  const i = msgs.findLastIndex((m) => isRecord(m) && m.role === "assistant");
  const last = msgs[i];
  if (!isRecord(last) || !Array.isArray(last.content)) return null;
  const content = last.content as unknown[];
  const forged = content.findIndex((b, at) => isRecord(b) && b.type === "thinking" && !intact(content, at));
  if (forged >= 0) return `messages.${i}.content.${forged}: Invalid \`signature\` in \`thinking\` block`;
  // Adaptive (interleaved) thinking lets a turn open with a tool call.
  if (t.type === "adaptive") return null;
  if (!last.content.some((b) => isRecord(b) && b.type === "tool_use")) return null;
  const first = last.content[0];
  if (isRecord(first) && (first.type === "redacted_thinking" || first.type === "thinking")) return null;
  return `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${isRecord(first) ? String(first.type) : "text"}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`;
}

function messages(ctx: Ctx, body: Json) {
  const problem = validate(ctx, body);
  if (problem !== null) return sendError(ctx, 400, problem);
  const msgs = body.messages as unknown[];
  const lastUser = [...msgs].reverse().find((m) => isRecord(m) && m.role === "user");
  const reply = buildReply(
    ctx.takeScript(),
    isRecord(lastUser) ? partsText(lastUser.content) : "",
    msgs.length,
    ctx.bodyBytes,
  );
  const u = reply.usage;
  // A thinking request always thinks, scripted or not. Adaptive-only models omit the thinking text by
  // default (display "omitted"): the block comes back empty, with its signature.
  const thinks =
    isRecord(body.thinking) && (body.thinking.type === "enabled" || body.thinking.type === "adaptive");
  if (thinks && reply.reasoning.length === 0) reply.reasoning = "Let me work through this.";
  const omitted =
    thinks && ADAPTIVE_ONLY.test(String(body.model)) && (body.thinking as Json).display !== "summarized";
  const thought = omitted ? "" : reply.reasoning;
  const tools = reply.toolCalls.map((t, i) => ({
    type: "tool_use",
    id: `toolu_01${hex(`t${ctx.requestIndex}:${i}`, 22)}`,
    name: t.name,
    input: t.arguments,
  }));
  const usageStart = {
    input_tokens: Math.max(0, u.input - u.cached - u.cacheWrite),
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cached,
    cache_creation: {
      ephemeral_5m_input_tokens: u.cacheWrite - u.cacheWrite1h,
      ephemeral_1h_input_tokens: u.cacheWrite1h,
    },
    output_tokens: 1,
    service_tier: "standard",
  };
  const message = {
    id: `msg_01${hex(`m${ctx.requestIndex}`, 22)}`,
    type: "message",
    role: "assistant",
    model: body.model,
    content: [] as Json[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: usageStart,
  };
  // The answer's blocks in order. Adaptive thinking interleaves: a further thinking block before each
  // later tool call. Each thinking block is signed for the call it leads to (signFor).
  const thinkingBlock = (anchor: string): Json => ({
    type: "thinking",
    thinking: thought,
    signature: signFor(anchor),
  });
  const blocks: Json[] = [];
  if (reply.reasoning.length > 0) blocks.push(thinkingBlock(tools[0]?.id ?? message.id));
  if (reply.text.length > 0 || tools.length === 0) blocks.push({ type: "text", text: reply.text });
  const interleaved = thinks && (body.thinking as Json).type === "adaptive";
  for (const [k, t] of tools.entries()) {
    if (interleaved && k > 0) blocks.push(thinkingBlock(t.id));
    blocks.push(t);
  }
  if (body.stream !== true) {
    message.content.push(...blocks);
    message.stop_reason = STOP[reply.finish];
    sendJson(ctx, 200, { ...message, usage: { ...usageStart, output_tokens: u.output } }, headers(ctx));
    return;
  }
  const events: SseEvent[] = [];
  const ev = (type: string, payload: Json): void => {
    events.push({ event: type, data: JSON.stringify({ type, ...payload }) });
  };
  ev("message_start", { message });
  let index = 0;
  let pinged = false;
  const block = (start: Json, deltas: Json[]): void => {
    ev("content_block_start", { index, content_block: start });
    if (!pinged) {
      events.push({ event: "ping", data: '{"type": "ping"}' });
      pinged = true;
    }
    for (const delta of deltas) ev("content_block_delta", { index, delta });
    ev("content_block_stop", { index });
    index++;
  };
  const pieces = (s: string): string[] => splitChars(s, ctx.opts.chunkChars);
  for (const b of blocks) {
    if (b.type === "thinking") {
      const deltas = pieces(String(b.thinking)).map((thinking) => ({ type: "thinking_delta", thinking }));
      block({ type: "thinking", thinking: "", signature: "" }, [
        ...deltas,
        { type: "signature_delta", signature: b.signature },
      ]);
    } else if (b.type === "text") {
      block(
        { type: "text", text: "" },
        pieces(String(b.text)).map((text) => ({ type: "text_delta", text })),
      );
    } else {
      // Anthropic streams no JSON for an empty input: one empty partial_json, then the block stops.
      const input = JSON.stringify(b.input);
      const json = ["", ...(input === "{}" ? [] : pieces(input))];
      block(
        { ...b, input: {} },
        json.map((partial_json) => ({ type: "input_json_delta", partial_json })),
      );
    }
  }
  ev("message_delta", {
    delta: { stop_reason: STOP[reply.finish], stop_sequence: null },
    usage: { output_tokens: u.output },
  });
  ev("message_stop", {});
  writeStream(ctx, events, headers(ctx));
}

const spec: ProviderSpec = {
  basePath: "",
  defaultCrlf: false,
  headers,
  sendError,
  streamError,
  handle(ctx) {
    if (ctx.req.method !== "POST" || ctx.url.pathname !== "/v1/messages") return sendError(ctx, 404);
    // x-api-key; @anthropic-ai/sdk >= 1.x sends the API key as `Authorization: Bearer` instead.
    const auth = ctx.req.headers.authorization;
    const bearer = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : undefined;
    const key = ctx.req.headers["x-api-key"] ?? bearer;
    if (key === undefined) return sendError(ctx, 401, "x-api-key header is required");
    if (key !== ctx.opts.apiKey) return sendError(ctx, 401, "invalid x-api-key");
    if (ctx.req.headers["anthropic-version"] === undefined) {
      return sendError(ctx, 400, "anthropic-version: header is required");
    }
    if (!isRecord(ctx.json))
      return sendError(ctx, 400, "There was an error parsing the body of your request.");
    messages(ctx, ctx.json);
  },
};

export function startAnthropicSimulator(opts?: SimulatorOptions): Promise<Simulator> {
  return startServer(spec, opts);
}
