import type { ChatRequest } from "../../api/chat-request.ts";
import { unsupportedParameter } from "../../api/errors.ts";
import { type DirectToolsRequest, withAllowedTools } from "../allowed-tools.ts";
import { schemaWithDescription } from "../response-schema.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";
import { capCacheBreakpoints } from "./cache-breakpoints.ts";
import { type JsonSchema, toAnthropicSchema } from "./json-schema.ts";
import { type AnthropicMessage, type CacheControl, type TextBlock, toAnthropicMessages } from "./messages.ts";
import { refusesPrefill, refusesSampling, takesOneSampler } from "./model-traits.ts";
import { type AnthropicThinking, anthropicMaxTokens, thinkingFor } from "./thinking.ts";

/**
 * Pinned to 2023-06-01 on purpose: API version 2026-10-21 (what @anthropic-ai/sdk >= 1.0 sends) removes
 * `temperature` and `top_p`, so moving the pin means refusing those two fields instead of mapping them.
 */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Fields accepted but not forwarded, and why. Each is either handled elsewhere or has no effect on what
 * the model generates; every other unsupported field is refused below.
 * - `store`: OpenAI's retention of completions for evals/distillation; Anthropic has no such store.
 * - `metadata`: OpenAI's tags for stored completions (only meaningful with `store`), not model input.
 * - `stream_options`: the router strips or keeps the usage chunk; Anthropic always reports usage.
 * - `prompt_cache_key`: a routing hint for OpenAI's prompt cache; Anthropic caches at `cache_control`
 *   breakpoints, and the key changes nothing the model generates.
 * - `modalities`: only `["text"]` passes validation, which is what Anthropic produces anyway.
 * - `prediction`: OpenAI's Predicted Outputs, a latency hint; the answer is the same without it.
 */
export const IGNORED_FIELDS = [
  "store",
  "metadata",
  "stream_options",
  "prompt_cache_key",
  "modalities",
  "prediction",
] as const;

/**
 * Refused when set to anything but a no-op: values equal to OpenAI's documented default (n 1, penalty 0,
 * logprobs false, top_logprobs 0, empty logit_bias) change nothing, so they pass.
 */
const REFUSED: ReadonlyArray<[keyof ChatRequest, (r: ChatRequest) => boolean]> = [
  ["n", (r) => r.n != null && r.n > 1],
  ["presence_penalty", (r) => r.presence_penalty != null && r.presence_penalty !== 0],
  ["frequency_penalty", (r) => r.frequency_penalty != null && r.frequency_penalty !== 0],
  ["logit_bias", (r) => r.logit_bias != null && Object.keys(r.logit_bias).length > 0],
  ["logprobs", (r) => r.logprobs === true],
  ["top_logprobs", (r) => r.top_logprobs != null && r.top_logprobs > 0],
  ["seed", (r) => r.seed != null],
  // OpenAI's search models' settings: Anthropic's web search is a server tool, not this field.
  ["web_search_options", (r) => r.web_search_options != null],
  ["moderation", (r) => r.moderation != null],
  // OpenAI's default, `medium`, is the only verbosity every model has.
  ["verbosity", (r) => r.verbosity != null && r.verbosity !== "medium"],
  // Capacity tiers differ in meaning and price between providers; OpenAI's `auto` and `default` ask for
  // no particular one, which is what Anthropic does without the field.
  [
    "service_tier",
    (r) => r.service_tier != null && r.service_tier !== "auto" && r.service_tier !== "default",
  ],
];

type ToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: TextBlock[];
  stream?: true;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown>; strict?: true }>;
  tool_choice?: ToolChoice;
  output_config?: {
    format?: { type: "json_schema"; schema: JsonSchema };
    effort?: string;
  };
  thinking?: { type: "enabled"; budget_tokens: number } | { type: "adaptive" };
}

function toolChoice(req: DirectToolsRequest): ToolChoice | undefined {
  const c = req.tool_choice;
  let choice: ToolChoice | undefined;
  if (c === "auto") choice = { type: "auto" };
  else if (c === "required") choice = { type: "any" };
  else if (c === "none") choice = { type: "none" };
  else if (c) choice = { type: "tool", name: c.function.name };
  // Anthropic carries the parallel switch on tool_choice; with no tools or `none` it is moot.
  if (req.parallel_tool_calls === false && req.tools?.length) {
    choice ??= { type: "auto" };
    if (choice.type !== "none") choice = { ...choice, disable_parallel_tool_use: true };
  }
  return choice;
}

function outputConfig(req: ChatRequest, provider: string): AnthropicRequestBody["output_config"] {
  const f = req.response_format;
  if (!f || f.type === "text") return undefined;
  if (f.type === "json_object") throw unsupportedParameter(provider, "response_format", "use json_schema");
  const { schema, description } = f.json_schema;
  if (!schema)
    throw unsupportedParameter(provider, "response_format.json_schema.schema", "a schema is required");
  // `strict` needs no mapping: Anthropic's json_schema output is always schema-constrained, so the
  // schema always goes in the form its grammar takes.
  return {
    format: {
      type: "json_schema",
      schema: constrained(
        schemaWithDescription(schema, description),
        "response_format.json_schema.schema",
        provider,
      ),
    },
  };
}

/**
 * A schema Anthropic decodes under (structured output, a strict tool) in the form its grammar takes
 * (json-schema.ts); an object left open on purpose, which it cannot constrain, is refused naming `param`,
 * so an alias falls back to a target that honours it.
 */
function constrained(schema: JsonSchema, param: string, provider: string): JsonSchema {
  const result = toAnthropicSchema(schema);
  if ("schema" in result) return result.schema;
  if ("recursiveAt" in result)
    throw unsupportedParameter(
      provider,
      param,
      `Anthropic takes no recursive schema (${result.recursiveAt} refers back)`,
    );
  throw unsupportedParameter(
    provider,
    param,
    `Anthropic constrains objects only with additionalProperties false (${result.openObjectAt} is open)`,
  );
}

/**
 * A conversation that ends with an assistant message asks Anthropic to continue it (a prefill). Opus 4.6
 * and later refuse that outright (naming the message); the others refuse it while thinking: the
 * extended-thinking docs rule out pre-filled responses with thinking, and the API answers one with 400
 * ("When `thinking` is enabled, a final `assistant` message must start with a thinking block"). So
 * `reasoning_effort` is named, as `tool_choice` is for a forced tool: the same request without it, or
 * at another target, works.
 */
function refusePrefill(
  req: ChatRequest,
  messages: AnthropicMessage[],
  thinking: AnthropicThinking | undefined,
  ctx: MapContext,
): void {
  if (messages.at(-1)?.role !== "assistant") return;
  if (refusesPrefill(ctx.model)) {
    const last = req.messages.findLastIndex((m) => m.role === "assistant");
    throw unsupportedParameter(
      ctx.providerId,
      `messages[${last}]`,
      `${ctx.model} does not continue an assistant message; the conversation must end with a user or tool message`,
    );
  }
  if (thinking)
    throw unsupportedParameter(
      ctx.providerId,
      "reasoning_effort",
      "Anthropic does not continue a final assistant message (a prefill) while it thinks",
    );
}

/**
 * The sampling fields to send. Anthropic's temperature runs from 0 to 1 (OpenAI's to 2). A model that
 * takes one of temperature and top_p gets the one not at its default, and a request setting both is
 * refused. A model that dropped sampling (model-traits.ts) gets neither: OpenAI's defaults, temperature
 * 1 and top_p 1, change nothing and are left out, and any other value is refused naming it, as OpenAI
 * refuses them for its reasoning models. Refusing here rather than passing on Anthropic's 400 lets a
 * fallback chain move on to a target that can honour them.
 */
function samplingFor(
  req: ChatRequest,
  model: string,
  provider: string,
): Pick<AnthropicRequestBody, "temperature" | "top_p"> {
  const { temperature, top_p } = req;
  if (refusesSampling(model)) {
    const why = `${model} takes no sampling parameters`;
    if (temperature != null && temperature !== 1) throw unsupportedParameter(provider, "temperature", why);
    if (top_p != null && top_p !== 1) throw unsupportedParameter(provider, "top_p", why);
    return {};
  }
  if (temperature != null && temperature > 1)
    throw unsupportedParameter(provider, "temperature", "Anthropic accepts 0 to 1");
  if (temperature != null && top_p != null && takesOneSampler(model)) {
    // One of them at its default (1) changes nothing, so the other is sent alone.
    if (top_p === 1) return { temperature };
    if (temperature === 1) return { top_p };
    throw unsupportedParameter(provider, "top_p", `${model} takes temperature or top_p, not both`);
  }
  return { ...(temperature != null ? { temperature } : {}), ...(top_p != null ? { top_p } : {}) };
}

/**
 * Whether the request continues a tool loop (it ends with tool results) whose assistant turn came back
 * without the thinking blocks the gateway returned on its calls (`extra_content.anthropic`), as the
 * OpenAI SDK's `runTools`, the Vercel AI SDK and LangChain all send it. With extended thinking on,
 * Anthropic refuses such a turn (400 "Expected `thinking` or `redacted_thinking`, but found
 * `tool_use`"), and nothing can restore the blocks; without thinking it continues the turn, and the
 * model has already thought before the calls. So the step is sent without thinking. Adaptive thinking
 * (Claude 4.6 and later) takes such a turn as it is.
 */
function toolTurnLostItsThinking(req: ChatRequest): boolean {
  const messages = req.messages;
  let i = messages.length - 1;
  if (messages[i]?.role !== "tool") return false;
  while (i >= 0 && messages[i]?.role === "tool") i--;
  const turn = messages[i];
  if (turn?.role !== "assistant" || !turn.tool_calls?.length) return false;
  return !turn.tool_calls.some((c) => (c.extra_content?.anthropic?.thinking_blocks?.length ?? 0) > 0);
}

/** Maps an OpenAI request onto `POST /v1/messages`. Throws 400 for anything Anthropic cannot honour. */
export function toAnthropicRequest(request: ChatRequest, ctx: MapContext): UpstreamRequest {
  const req = withAllowedTools(request);
  const provider = ctx.providerId;
  for (const [field, isSet] of REFUSED) if (isSet(req)) throw unsupportedParameter(provider, field);
  const sampling = samplingFor(req, ctx.model, provider);
  const wanted = thinkingFor(req, ctx.model, provider);
  const thinking = wanted?.type === "enabled" && toolTurnLostItsThinking(req) ? undefined : wanted;
  // OpenAI's breakpoints live at least 30 minutes when the caller says so; Anthropic's 1-hour TTL is
  // the one that covers that (its default is 5 minutes, at a lower cache-write price).
  const cache: CacheControl = req.prompt_cache_options?.ttl
    ? { type: "ephemeral", ttl: "1h" }
    : { type: "ephemeral" };
  const { system, messages } = toAnthropicMessages(req.messages, provider, {
    thinking: thinking !== undefined,
    cache,
  });
  capCacheBreakpoints(system, messages);
  refusePrefill(req, messages, thinking, ctx);
  const body: AnthropicRequestBody = {
    model: ctx.model,
    max_tokens: anthropicMaxTokens(req, ctx.model),
    messages,
  };
  if (thinking?.type === "enabled") body.thinking = thinking;
  else if (thinking) body.thinking = { type: "adaptive" };
  if (system.length > 0) body.system = system;
  if (req.stream) body.stream = true;
  Object.assign(body, sampling);
  const stop = typeof req.stop === "string" ? [req.stop] : req.stop;
  // Anthropic refuses a stop sequence of nothing but whitespace (OpenAI takes "\n"): it cannot be
  // honoured there, and dropping it would let the answer run past where the caller wanted it to stop.
  if (stop?.some((s) => s.trim() === ""))
    throw unsupportedParameter(provider, "stop", "Anthropic takes no stop sequence that is only whitespace");
  if (stop?.length) body.stop_sequences = stop;
  // `safety_identifier` is OpenAI's successor to `user`; either names the end user to Anthropic.
  const endUser = req.safety_identifier ?? req.user;
  if (endUser !== undefined) body.metadata = { user_id: endUser };
  if (req.tools?.length) {
    body.tools = req.tools.map(({ function: f }) => {
      const schema = f.parameters ?? { type: "object", properties: {} };
      // Named by its place in the caller's list (allowed_tools may have offered fewer).
      const i = request.tools?.findIndex((t) => t.function.name === f.name) ?? 0;
      return {
        name: f.name,
        ...(f.description !== undefined ? { description: f.description } : {}),
        // A strict tool's input is decoded under its schema, as structured output is; another tool's
        // schema is only shown to the model, and goes as it is.
        input_schema: f.strict ? constrained(schema, `tools[${i}].function.parameters`, provider) : schema,
        ...(f.strict ? { strict: true as const } : {}),
      };
    });
  }
  const choice = toolChoice(req);
  if (choice) body.tool_choice = choice;
  const output = outputConfig(req, provider);
  // Adaptive thinking takes its depth from the effort, beside any output format.
  if (output || thinking?.type === "adaptive")
    body.output_config = { ...output, ...(thinking?.type === "adaptive" ? { effort: thinking.effort } : {}) };
  return {
    path: "/v1/messages",
    headers: {
      "x-api-key": ctx.apiKey,
      "anthropic-version": ANTHROPIC_VERSION,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  };
}
