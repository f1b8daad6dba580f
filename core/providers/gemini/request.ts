import type { ChatRequest, ToolDefinition } from "../../api/chat-request.ts";
import { type EmbeddingsRequest, embeddingInputs } from "../../api/embeddings-request.ts";
import { unsupportedParameter } from "../../api/errors.ts";
import { type DirectToolChoice, withAllowedTools } from "../allowed-tools.ts";
import { schemaWithDescription } from "../response-schema.ts";
import type { MapContext, UpstreamRequest } from "../types.ts";
import { effortRefusal, takesPenalties, thinkingConfig } from "./generation.ts";
import { toGeminiSchema } from "./json-schema.ts";
import { toGeminiContents } from "./messages.ts";

const PROVIDER = "gemini";

/**
 * Accepted but not sent: Gemini has no field for them, and they do not change what the model generates.
 * `user` is an end-user id for abuse tracking; the gateway records it itself. `modalities` passes
 * validation only as `["text"]`, which is what Gemini returns without being asked. `prediction` is
 * OpenAI's Predicted Outputs, a latency hint: the answer is the same without it.
 */
export const IGNORED_FIELDS = ["user", "modalities", "prediction"] as const;

const headers = (apiKey: string): Record<string, string> => ({
  "x-goog-api-key": apiKey,
  "content-type": "application/json",
});

const modelPath = (model: string) => `/v1beta/models/${encodeURIComponent(model)}`;

/** Gemini's function names must start with a letter or underscore; OpenAI also allows digits and '-'. */
const GEMINI_FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

function tools(defs: ToolDefinition[]) {
  const functionDeclarations = defs.map((t, i) => {
    const f = t.function;
    if (!GEMINI_FUNCTION_NAME.test(f.name)) {
      throw unsupportedParameter(PROVIDER, `tools[${i}].function.name`, "must start with a letter or '_'");
    }
    // Gemini has no per-function strict mode; it does not guarantee schema-valid arguments.
    if (f.strict === true) {
      throw unsupportedParameter(
        PROVIDER,
        `tools[${i}].function.strict`,
        "Gemini cannot enforce strict schemas",
      );
    }
    return {
      name: f.name,
      ...(f.description !== undefined ? { description: f.description } : {}),
      // parametersJsonSchema takes full JSON Schema (unlike the OpenAPI-subset `parameters`).
      ...(f.parameters !== undefined ? { parametersJsonSchema: toGeminiSchema(f.parameters) } : {}),
    };
  });
  return [{ functionDeclarations }];
}

function toolConfig(choice: DirectToolChoice) {
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } };
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  // A named function is one of the tools (conversation-rules.ts refuses any other).
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
}

/** Refuses what Gemini cannot honour, so a caller never believes an ignored parameter took effect. */
function refuseUnsupported(req: ChatRequest, model: string): void {
  const refuse = (param: string, detail: string) => {
    throw unsupportedParameter(PROVIDER, param, detail);
  };
  if (req.logit_bias != null) refuse("logit_bias", "Gemini has no token biasing");
  if (req.parallel_tool_calls === false)
    refuse("parallel_tool_calls", "Gemini cannot limit itself to one call");
  if (req.store === true) refuse("store", "completions cannot be stored at Gemini");
  if (req.web_search_options != null) refuse("web_search_options", "only OpenAI's search models take it");
  if (req.moderation != null) refuse("moderation", "only OpenAI moderates completions");
  if (req.metadata != null && Object.keys(req.metadata).length > 0)
    refuse("metadata", "Gemini has no stored-completion metadata");
  if (req.service_tier != null && !["auto", "default"].includes(req.service_tier)) {
    refuse("service_tier", "only 'auto' and 'default' are supported");
  }
  // The stream reducer follows a single candidate.
  if (req.stream && req.n != null && req.n > 1) refuse("n", "streaming supports one choice");
  if (req.verbosity != null && req.verbosity !== "medium")
    refuse("verbosity", "Gemini has no verbosity setting");
  const effortRefused = req.reasoning_effort != null ? effortRefusal(req.reasoning_effort, model) : undefined;
  if (effortRefused !== undefined) refuse("reasoning_effort", effortRefused);
  if (!takesPenalties(model)) {
    // 0 (OpenAI's default) changes nothing, and is not sent (generationConfig).
    for (const param of ["presence_penalty", "frequency_penalty"] as const) {
      const value = req[param];
      if (value != null && value !== 0) refuse(param, `${model} has no penalties (Gemini 2.0 has them)`);
    }
  }
}

function generationConfig(req: ChatRequest, model: string): Record<string, unknown> {
  const g: Record<string, unknown> = {};
  if (req.temperature != null) g.temperature = req.temperature;
  if (req.top_p != null) g.topP = req.top_p;
  if (req.stop != null) g.stopSequences = typeof req.stop === "string" ? [req.stop] : req.stop;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens != null) g.maxOutputTokens = maxTokens;
  if (req.seed != null) g.seed = req.seed;
  if (takesPenalties(model)) {
    if (req.presence_penalty != null) g.presencePenalty = req.presence_penalty;
    if (req.frequency_penalty != null) g.frequencyPenalty = req.frequency_penalty;
  }
  if (req.n != null) g.candidateCount = req.n;
  if (req.logprobs === true) g.responseLogprobs = true;
  if (req.logprobs === true && req.top_logprobs) g.logprobs = req.top_logprobs;
  const rf = req.response_format;
  if (rf?.type === "json_object") g.responseMimeType = "application/json";
  if (rf?.type === "json_schema") {
    // Gemini constrains decoding to the schema, so `strict` is honoured; name/description have no slot.
    g.responseMimeType = "application/json";
    if (rf.json_schema.schema !== undefined)
      g.responseJsonSchema = toGeminiSchema(
        schemaWithDescription(rf.json_schema.schema, rf.json_schema.description),
      );
  }
  const limit = req.max_completion_tokens ?? req.max_tokens;
  const thinking =
    req.reasoning_effort != null ? thinkingConfig(req.reasoning_effort, model, limit) : undefined;
  if (thinking !== undefined) g.thinkingConfig = thinking;
  return g;
}

/**
 * Builds a `generateContent` (or `streamGenerateContent?alt=sse`) call. Gemini always reports usage, so
 * `stream_options.include_usage` needs no mapping; the router strips the usage chunk for callers who did
 * not ask for it.
 */
export function toGeminiRequest(request: ChatRequest, ctx: MapContext): UpstreamRequest {
  const req = withAllowedTools(request);
  refuseUnsupported(req, ctx.model);
  const config = generationConfig(req, ctx.model);
  const body = {
    ...toGeminiContents(req.messages, ctx.model),
    ...(req.tools?.length ? { tools: tools(req.tools) } : {}),
    ...(req.tool_choice !== undefined ? { toolConfig: toolConfig(req.tool_choice) } : {}),
    ...(Object.keys(config).length > 0 ? { generationConfig: config } : {}),
  };
  const path = req.stream
    ? `${modelPath(ctx.model)}:streamGenerateContent?alt=sse`
    : `${modelPath(ctx.model)}:generateContent`;
  return { path, headers: headers(ctx.apiKey), body: JSON.stringify(body) };
}

/**
 * Google's `batchEmbedContents` takes at most 100 requests (400 "BatchEmbedContentsRequest.requests: at
 * most 100 requests can be in one batch"), where OpenAI takes 2 048 inputs, as the gateway does: the
 * embeddings route splits a larger request into calls of this many (core/gateway/embeddings.ts).
 */
export const GEMINI_EMBEDDINGS_PER_CALL = 100;

/**
 * One `batchEmbedContents` call for all inputs, at most GEMINI_EMBEDDINGS_PER_CALL of them (more is
 * refused before the call rather than sent to Google's 400). Gemini returns floats only;
 * `encoding_format: "base64"` (the OpenAI SDKs' default) is applied to the response by
 * `fromGeminiEmbeddings`.
 */
export function toGeminiEmbeddingsRequest(req: EmbeddingsRequest, ctx: MapContext): UpstreamRequest {
  const model = `models/${ctx.model}`;
  const inputs = embeddingInputs(req).map((input) => {
    if (typeof input !== "string")
      throw unsupportedParameter(PROVIDER, "input", "Gemini embeds text, not token ids");
    return input;
  });
  if (inputs.length > GEMINI_EMBEDDINGS_PER_CALL)
    throw unsupportedParameter(
      PROVIDER,
      "input",
      `Gemini embeds at most ${GEMINI_EMBEDDINGS_PER_CALL} inputs in one call`,
    );
  const requests = inputs.map((text) => ({
    model,
    content: { parts: [{ text }] },
    ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
  }));
  return {
    path: `${modelPath(ctx.model)}:batchEmbedContents`,
    headers: headers(ctx.apiKey),
    body: JSON.stringify({ requests }),
  };
}
