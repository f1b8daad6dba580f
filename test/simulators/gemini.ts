/** Gemini generativelanguage v1beta simulator (base URL `http://127.0.0.1:PORT`). */
import type { Ctx, ProviderSpec } from "./server.ts";
import { startServer } from "./server.ts";
import type { Simulator, SimulatorOptions } from "./types.ts";
import type { Finish } from "./util.ts";
import { buildReply, embedVector, hex, isRecord, partsText, splitChars } from "./util.ts";
import type { SseEvent } from "./write.ts";
import { sendJson, writeStream } from "./write.ts";

type Json = Record<string, unknown>;

const STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};
const MESSAGES: Record<number, string> = {
  429: "You exceeded your current quota, please check your plan and billing details.",
  500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  503: "The model is overloaded. Please try again later.",
};
const FINISH: Record<Finish, string> = {
  stop: "STOP",
  length: "MAX_TOKENS",
  tool_calls: "STOP",
  content_filter: "SAFETY",
};
const JSON_TYPE = "application/json; charset=UTF-8";

function headers(_ctx: Ctx): Record<string, string> {
  return { server: "scaffolding on HTTPServer2", vary: "Origin, X-Origin, Referer" };
}

function sendError(ctx: Ctx, status: number, message?: string, details?: Json[]): void {
  const error: Json = {
    code: status,
    message: message ?? MESSAGES[status] ?? `HTTP ${status}`,
    status: STATUS[status] ?? "UNKNOWN",
  };
  if (details) error.details = details;
  sendJson(ctx, status, { error }, headers(ctx), JSON_TYPE);
}

/** Gemini's in-stream error: a data line holding the google.rpc error instead of a response. */
function streamError(_ctx: Ctx, status = 503): SseEvent {
  const error = {
    code: status,
    message: MESSAGES[status] ?? `HTTP ${status}`,
    status: STATUS[status] ?? "UNKNOWN",
  };
  return { data: JSON.stringify({ error }) };
}

/** Gemini 3 and later sign their function calls and check the signatures of the current turn. */
const signsCalls = (model: string): boolean => Number(/^gemini-(\d+)/.exec(model)?.[1] ?? 0) >= 3;

/** Opaque to clients, checkable here: the signature names the call it was given with. */
const signatureFor = (name: string): string => Buffer.from(`sim-thought:${name}`).toString("base64");
const SKIP_SIGNATURE = "skip_thought_signature_validator";

const isResponseOnly = (c: Json) =>
  Array.isArray(c.parts) && c.parts.every((p) => isRecord(p) && p.functionResponse !== undefined);

/**
 * How the model reads a last turn of function results: Gemini pairs each `functionResponse` with the
 * `functionCall` at the same position in the model turn before it ("Function calling": parallel calls
 * of one function differ by position alone). The default reply then echoes those pairs,
 * `name(args) → response`, so a test sees which result the model took for which call.
 */
function answeredCalls(contents: unknown[]): string | null {
  const [prev, last] = contents.slice(-2);
  if (!isRecord(last) || !isResponseOnly(last) || !Array.isArray(last.parts)) return null;
  const parts: unknown[] = isRecord(prev) && Array.isArray(prev.parts) ? prev.parts : [];
  const called = parts.flatMap((p) => (isRecord(p) && isRecord(p.functionCall) ? [p.functionCall] : []));
  return last.parts
    .filter(isRecord)
    .map((p, k) => {
      const call = called[k];
      const answer = isRecord(p.functionResponse) ? p.functionResponse.response : undefined;
      return `${String(call?.name)}(${JSON.stringify(call?.args ?? {})}) → ${JSON.stringify(answer)}`;
    })
    .join("; ");
}

/**
 * Gemini 3's check ("Thought signatures"): the current turn starts at the last user content that is
 * not only function responses; in every model content after it, the first functionCall part must carry
 * its signature, or the documented skip value. Returns the error message, or null when it passes.
 */
function signatureError(contents: unknown[]): string | null {
  let start = 0;
  contents.forEach((c, i) => {
    if (isRecord(c) && c.role !== "model" && !isResponseOnly(c)) start = i;
  });
  for (let i = start + 1; i < contents.length; i++) {
    const c = contents[i];
    if (!isRecord(c) || c.role !== "model" || !Array.isArray(c.parts)) continue;
    const first = c.parts.find((p) => isRecord(p) && isRecord(p.functionCall));
    if (!isRecord(first) || !isRecord(first.functionCall)) continue;
    const name = String(first.functionCall.name);
    const sig = first.thoughtSignature;
    if (sig === undefined) {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${i + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
    }
    if (sig !== SKIP_SIGNATURE && sig !== signatureFor(name)) return "Corrupted thought signature.";
  }
  return null;
}

/** Gemini 2.5 and later think; 2.0 and 1.5 refuse any thinkingConfig (Google's thinking docs). */
const thinks = (model: string): boolean => {
  const m = /^gemini-(\d+)(?:\.(\d+))?/.exec(model);
  return m === null || Number(m[1]) >= 3 || (Number(m[1]) === 2 && Number(m[2] ?? 0) >= 5);
};

/**
 * The budgets Google's thinking docs give for Gemini 2.5 (-1, dynamic, everywhere): Pro 128 to 32 768
 * and no 0 (it cannot stop thinking), Flash 0 to 24 576, Flash-Lite 0 or 512 to 24 576.
 */
function budgetError(model: string, budget: number): string | null {
  if (budget === -1 || !/^gemini-2\.5-/.test(model)) return null;
  if (/^gemini-2\.5-pro/.test(model)) {
    if (budget === 0) return "Budget 0 is invalid. This model only works in thinking mode.";
    return budget >= 128 && budget <= 32768 ? null : `The thinking budget (${budget}) is invalid.`;
  }
  const floor = /^gemini-2\.5-flash-lite/.test(model) ? 512 : 0;
  const fits = budget === 0 || (budget >= floor && budget <= 24576);
  return fits ? null : `The thinking budget (${budget}) is invalid.`;
}

function generate(ctx: Ctx, model: string, body: Json, stream: boolean) {
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    return sendError(ctx, 400, "* GenerateContentRequest.contents: contents is not specified\n");
  }
  const partless = contents.findIndex((c) => !isRecord(c) || !Array.isArray(c.parts) || c.parts.length === 0);
  if (partless >= 0)
    return sendError(
      ctx,
      400,
      `* GenerateContentRequest.contents[${partless}].parts: contents.parts must not be empty.\n`,
    );
  const parts = [
    ...(isRecord(body.systemInstruction) && Array.isArray(body.systemInstruction.parts)
      ? body.systemInstruction.parts
      : []),
    ...contents.flatMap((c) => (isRecord(c) && Array.isArray(c.parts) ? c.parts : [])),
  ];
  if (parts.some((p) => isRecord(p) && p.text === ""))
    return sendError(
      ctx,
      400,
      "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.",
    );
  const signed = signsCalls(model);
  const badSignature = signed ? signatureError(contents) : null;
  if (badSignature !== null) return sendError(ctx, 400, badSignature);
  // Gemini 2.x thinks within a thinkingBudget and refuses Gemini 3's thinkingLevel; no model takes both.
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const thinking = isRecord(config.thinkingConfig) ? config.thinkingConfig : {};
  if (thinking.thinkingLevel !== undefined && thinking.thinkingBudget !== undefined)
    return sendError(ctx, 400, "You can only set only one of thinking budget and thinking level.");
  if (thinking.thinkingLevel !== undefined && /^gemini-2\./.test(model))
    return sendError(ctx, 400, "Thinking level is not supported for this model.");
  if (isRecord(config.thinkingConfig) && !thinks(model))
    return sendError(ctx, 400, `Thinking is not enabled for models/${model}`);
  const badBudget =
    typeof thinking.thinkingBudget === "number" ? budgetError(model, thinking.thinkingBudget) : null;
  if (badBudget !== null) return sendError(ctx, 400, badBudget);
  // Only Gemini 2.0 takes penalties; later models refuse any but 0.
  const penalized = [config.presencePenalty, config.frequencyPenalty].some((p) => p !== undefined && p !== 0);
  if (penalized && !/^gemini-2\.0-/.test(model))
    return sendError(ctx, 400, `Penalty is not enabled for models/${model}`);
  // Pro models think at LOW or more; Gemini 3 Pro knows only LOW and HIGH (3.1 Pro added MEDIUM).
  const proLevels = /^gemini-3(\.0)?-pro/.test(model)
    ? ["LOW", "HIGH"]
    : /^gemini-\d+(\.\d+)?-pro/.test(model)
      ? ["LOW", "MEDIUM", "HIGH"]
      : undefined;
  if (typeof thinking.thinkingLevel === "string" && proLevels && !proLevels.includes(thinking.thinkingLevel))
    return sendError(ctx, 400, `Thinking level ${thinking.thinkingLevel} is not supported for this model.`);
  const lastUser = [...contents]
    .reverse()
    .find((c) => isRecord(c) && (c.role === "user" || c.role === undefined));
  const script = ctx.takeScript();
  const reply = buildReply(
    script,
    answeredCalls(contents) ?? (isRecord(lastUser) ? partsText(lastUser.parts) : ""),
    contents.length,
    ctx.bodyBytes,
  );
  const u = reply.usage;
  const usageMetadata: Json = {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - u.reasoning,
    totalTokenCount: u.input + u.output,
    cachedContentTokenCount: u.cached,
    // By modality, as Gemini breaks the prompt down: audio apart from the rest.
    promptTokensDetails: [
      { modality: "TEXT", tokenCount: u.input - u.audio },
      ...(u.audio > 0 ? [{ modality: "AUDIO", tokenCount: u.audio }] : []),
    ],
    cacheTokensDetails: [{ modality: "TEXT", tokenCount: u.cached }],
  };
  if (u.reasoning > 0 || reply.reasoning.length > 0) usageMetadata.thoughtsTokenCount = u.reasoning;
  // Of parallel calls only the first is signed (Google: "Thought signatures").
  const calls: Json[] = reply.toolCalls.map((t, i) => ({
    functionCall: { name: t.name, args: t.arguments },
    ...(signed && i === 0 ? { thoughtSignature: signatureFor(t.name) } : {}),
  }));
  const common = { modelVersion: model, responseId: hex(`g${ctx.requestIndex}`, 22) };
  // responseLogprobs: one decoding step per answer-text piece, with `logprobs` top candidates each.
  const top = typeof config.logprobs === "number" ? config.logprobs : 0;
  const logprobsResult = (parts: Json[]): Json => {
    const steps = parts
      .filter((p) => typeof p.text === "string" && p.thought !== true)
      .flatMap((p) => splitChars(String(p.text), ctx.opts.chunkChars));
    const lp = (i: number, k = 0) => -0.02 * (i + 1) - k;
    return {
      chosenCandidates: steps.map((token, i) => ({ token, logProbability: lp(i) })),
      ...(top > 0
        ? {
            topCandidates: steps.map((token, i) => ({
              candidates: Array.from({ length: top }, (_, k) => ({
                token: k === 0 ? token : `${token}#${k}`,
                logProbability: lp(i, k),
              })),
            })),
          }
        : {}),
      logProbabilitySum: steps.reduce((sum, _, i) => sum + lp(i), 0),
    };
  };
  const candidate = (parts: Json[], finish?: string): Json => {
    const c: Json = { content: { parts, role: "model" } };
    if (finish) c.finishReason = finish;
    c.index = 0;
    if (config.responseLogprobs === true) c.logprobsResult = logprobsResult(parts);
    return c;
  };
  const finish = FINISH[reply.finish];
  const isSse = ctx.url.searchParams.get("alt") === "sse";
  if (!stream) {
    const parts: Json[] = [];
    if (reply.reasoning.length > 0) parts.push({ text: reply.reasoning, thought: true });
    if (reply.text.length > 0 || calls.length === 0) parts.push({ text: reply.text });
    parts.push(...calls);
    const ended = script?.geminiFinish;
    const key = String(ctx.req.headers["x-goog-api-key"] ?? "");
    const last = ended
      ? // Gemini's failed calls come without content parts.
        { ...candidate([], ended.reason), finishMessage: ended.message.replace("{credential}", key) }
      : candidate(parts, finish);
    return sendJson(ctx, 200, { candidates: [last], usageMetadata, ...common }, headers(ctx), JSON_TYPE);
  }
  const partial = { promptTokenCount: u.input, totalTokenCount: u.input };
  const chunks: Json[] = [];
  for (const p of splitChars(reply.reasoning, ctx.opts.chunkChars)) chunks.push({ text: p, thought: true });
  for (const p of splitChars(reply.text, ctx.opts.chunkChars)) chunks.push({ text: p });
  // The last chunk carries the function calls (whole), finishReason and the full usage.
  if (calls.length > 0 || chunks.length === 0) chunks.push(...(calls.length > 0 ? calls : [{ text: "" }]));
  const lastIndex = calls.length > 0 ? chunks.length - calls.length : chunks.length - 1;
  const payloads: Json[] = chunks.slice(0, lastIndex).map((p) => ({
    candidates: [candidate([p])],
    usageMetadata: partial,
    ...common,
  }));
  const style = script?.usageStyle;
  const late = style === "after-finish" || style === "none";
  payloads.push({
    candidates: [candidate(chunks.slice(lastIndex), finish)],
    usageMetadata: late ? partial : usageMetadata,
    ...common,
  });
  if (style === "after-finish") payloads.push({ usageMetadata, ...common });
  if (!isSse) return sendJson(ctx, 200, payloads, headers(ctx), JSON_TYPE);
  const events: SseEvent[] = payloads.map((p) => ({ data: JSON.stringify(p) }));
  writeStream(ctx, events, headers(ctx), "text/event-stream");
}

function contentText(content: unknown): string {
  return isRecord(content) ? partsText(content.parts) : "";
}

/** The simulated embedding model's full size (gemini-embedding-001's is 3 072). */
const EMBEDDING_DIMS = 8;

/**
 * As Google's embeddings guide says of gemini-embedding-001: the full-size vector is normalized, and a
 * smaller `outputDimensionality` one is not (callers normalize it themselves).
 */
function embedding(request: Json): { values: number[] } {
  const dims =
    typeof request.outputDimensionality === "number" ? request.outputDimensionality : EMBEDDING_DIMS;
  const values = embedVector(contentText(request.content), dims);
  if (dims !== EMBEDDING_DIMS) return { values };
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return { values: values.map((v) => v / norm) };
}

function embed(ctx: Ctx, body: Json) {
  if (!isRecord(body.content))
    return sendError(ctx, 400, "* EmbedContentRequest.content: contents is not specified\n");
  sendJson(ctx, 200, { embedding: embedding(body) }, headers(ctx), JSON_TYPE);
}

/** Google's cap on one batchEmbedContents call. */
const MAX_BATCH = 100;

function batchEmbed(ctx: Ctx, body: Json) {
  const reqs = body.requests;
  if (!Array.isArray(reqs) || reqs.length === 0) {
    return sendError(ctx, 400, "* BatchEmbedContentsRequest.requests: requests is not specified\n");
  }
  if (reqs.length > MAX_BATCH)
    return sendError(
      ctx,
      400,
      `* BatchEmbedContentsRequest.requests: at most ${MAX_BATCH} requests can be in one batch\n`,
    );
  sendJson(ctx, 200, { embeddings: reqs.filter(isRecord).map(embedding) }, headers(ctx), JSON_TYPE);
}

const ROUTE =
  /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;

const spec: ProviderSpec = {
  basePath: "",
  defaultCrlf: true,
  headers,
  sendError: (ctx, status, message) => sendError(ctx, status, message),
  streamError,
  handle(ctx) {
    const m = ctx.req.method === "POST" ? ROUTE.exec(ctx.url.pathname) : null;
    if (m === null) return sendError(ctx, 404, `Method not found: ${ctx.req.method} ${ctx.url.pathname}`);
    const header = ctx.req.headers["x-goog-api-key"];
    const key = typeof header === "string" ? header : ctx.url.searchParams.get("key");
    if (key === null || key === "") {
      return sendError(
        ctx,
        401,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== ctx.opts.apiKey) {
      const reason = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      };
      return sendError(ctx, 401, "API key not valid. Please pass a valid API key.", [reason]);
    }
    if (!isRecord(ctx.json)) return sendError(ctx, 400, "Invalid JSON payload received.");
    const model = decodeURIComponent(m[2] ?? "");
    const method = m[3];
    if (method === "generateContent") return generate(ctx, model, ctx.json, false);
    if (method === "streamGenerateContent") return generate(ctx, model, ctx.json, true);
    if (method === "embedContent") return embed(ctx, ctx.json);
    batchEmbed(ctx, ctx.json);
  },
};

export function startGeminiSimulator(opts?: SimulatorOptions): Promise<Simulator> {
  return startServer(spec, opts);
}
