/** OpenAI Chat Completions + Embeddings simulator (base URL `http://127.0.0.1:PORT/v1`). */

import { checkAuth, headers, sendError, streamError } from "./openai-errors.ts";
import type { Ctx, ProviderSpec } from "./server.ts";
import { startServer } from "./server.ts";
import type { Simulator, SimulatorOptions } from "./types.ts";
import {
  buildReply,
  embedVector,
  hex,
  isRecord,
  nowSeconds,
  partsText,
  splitChars,
  vectorBase64,
} from "./util.ts";
import type { SseEvent } from "./write.ts";
import { sendJson, writeStream } from "./write.ts";

type Json = Record<string, unknown>;

function chat(ctx: Ctx, body: Json) {
  const messages = body.messages;
  if (typeof body.model !== "string") return sendError(ctx, 400, "you must provide a model parameter");
  if (!Array.isArray(messages) || messages.length === 0) {
    return sendError(
      ctx,
      400,
      "Missing required parameter: 'messages'.",
      "messages",
      "missing_required_parameter",
    );
  }
  // Reasoning models (o-series, GPT-5) take only max_completion_tokens.
  if (body.max_tokens != null && /^(o\d|gpt-5)/.test(body.model)) {
    return sendError(
      ctx,
      400,
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      "max_tokens",
      "unsupported_parameter",
    );
  }
  const lastUser = [...messages].reverse().find((m) => isRecord(m) && m.role === "user");
  const script = ctx.takeScript();
  const reply = buildReply(
    script,
    isRecord(lastUser) ? partsText(lastUser.content) : "",
    messages.length,
    ctx.bodyBytes,
  );
  const id = `chatcmpl-${hex(`c${ctx.requestIndex}`, 29)}`;
  const base = { id, created: nowSeconds(), model: body.model, system_fingerprint: "fp_sim0001" };
  // The tier that served the request: the one asked for, `auto` answered as the project's default.
  const tier =
    typeof body.service_tier === "string" && body.service_tier !== "auto"
      ? body.service_tier
      : (script?.defaultTier ?? "default");
  const toolCalls = reply.toolCalls.map((t, i) => ({
    id: `call_${hex(`t${ctx.requestIndex}:${i}`, 24)}`,
    type: "function",
    function: { name: t.name, arguments: JSON.stringify(t.arguments) },
  }));
  const u = reply.usage;
  const usage = {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: u.audio },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const content = reply.text.length > 0 || toolCalls.length === 0 ? reply.text : null;
  // `logprobs: true`: one entry per content token (here, per streamed piece), with `top_logprobs`
  // alternatives; null otherwise, as OpenAI answers.
  const top = typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
  const logprobsOf = (pieces: string[]) =>
    body.logprobs === true
      ? {
          content: pieces.map((token, i) => ({
            token,
            logprob: -0.01 * (i + 1),
            bytes: [...Buffer.from(token)],
            top_logprobs: Array.from({ length: top }, (_, k) => ({
              token: k === 0 ? token : `${token}~${k}`,
              logprob: -0.01 * (i + 1) - k,
              bytes: [...Buffer.from(k === 0 ? token : `${token}~${k}`)],
            })),
          })),
          refusal: null,
        }
      : null;
  const pieces = splitChars(reply.text, ctx.opts.chunkChars);
  if (body.stream !== true) {
    const message: Json = {
      role: "assistant",
      content,
      refusal: null,
      annotations: script?.annotations ?? [],
    };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    const choice = { index: 0, message, logprobs: logprobsOf(pieces), finish_reason: reply.finish };
    const counted = script?.usageStyle === "none" ? {} : { usage };
    sendJson(
      ctx,
      200,
      { ...base, object: "chat.completion", choices: [choice], ...counted, service_tier: tier },
      headers(ctx),
    );
    return;
  }
  const style = script?.usageStyle ?? "openai";
  const includeUsage =
    style !== "none" && isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const chunk = (delta: Json, finish: string | null = null): SseEvent => {
    const text = typeof delta.content === "string" && delta.content !== "" ? [delta.content] : [];
    const c: Json = {
      ...base,
      object: "chat.completion.chunk",
      service_tier: tier,
      choices: [{ index: 0, delta, logprobs: text.length ? logprobsOf(text) : null, finish_reason: finish }],
    };
    if (includeUsage) c.usage = null;
    c.obfuscation = hex(`o${JSON.stringify(delta)}`, 6);
    return { data: JSON.stringify(c) };
  };
  const events: SseEvent[] = [
    chunk({ role: "assistant", content: content === null ? null : "", refusal: null }),
  ];
  for (const piece of pieces) events.push(chunk({ content: piece }));
  if (script?.annotations) events.push(chunk({ annotations: script.annotations }));
  toolCalls.forEach((t, index) => {
    events.push(
      chunk({
        tool_calls: [
          { index, id: t.id, type: "function", function: { name: t.function.name, arguments: "" } },
        ],
      }),
    );
    for (const piece of splitChars(t.function.arguments, ctx.opts.chunkChars)) {
      events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  const finishChunk = chunk({}, reply.finish);
  if (includeUsage && style === "on-finish")
    finishChunk.data = JSON.stringify({ ...JSON.parse(finishChunk.data as string), usage });
  events.push(finishChunk);
  if (includeUsage && style === "openai") {
    events.push({
      data: JSON.stringify({
        ...base,
        object: "chat.completion.chunk",
        service_tier: tier,
        choices: [],
        usage,
      }),
    });
  }
  events.push({ data: "[DONE]" });
  writeStream(ctx, events, headers(ctx));
}

function embeddings(ctx: Ctx, body: Json) {
  if (typeof body.model !== "string") return sendError(ctx, 400, "you must provide a model parameter");
  const raw = body.input;
  const inputs: unknown[] = Array.isArray(raw) && raw.length > 0 && typeof raw[0] !== "number" ? raw : [raw];
  if (raw === undefined || inputs.length === 0) {
    return sendError(ctx, 400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
  }
  const dims = typeof body.dimensions === "number" ? body.dimensions : 8;
  const base64 = body.encoding_format === "base64";
  const data = inputs.map((input, index) => {
    const v = embedVector(typeof input === "string" ? input : JSON.stringify(input), dims);
    return { object: "embedding", index, embedding: base64 ? vectorBase64(v) : v };
  });
  const script = ctx.takeScript();
  // A script's input count stands in for the simulated one (an OpenAI-compatible server's odd counts).
  const tokens =
    script?.usage?.input ??
    inputs.reduce<number>((n, i) => n + 1 + ((typeof i === "string" ? i.length : 4) % 9), 0);
  const usage = { prompt_tokens: tokens, total_tokens: tokens };
  const counted = script?.usageStyle === "none" ? {} : { usage };
  sendJson(ctx, 200, { object: "list", data, model: body.model, ...counted }, headers(ctx));
}

const spec: ProviderSpec = {
  basePath: "/v1",
  defaultCrlf: false,
  headers,
  sendError: (ctx, status, message) => sendError(ctx, status, message),
  streamError,
  handle(ctx) {
    const route = `${ctx.req.method} ${ctx.url.pathname}`;
    const handler =
      route === "POST /v1/chat/completions" ? chat : route === "POST /v1/embeddings" ? embeddings : null;
    if (handler === null) return sendError(ctx, 404, `Invalid URL (${route})`);
    if (!checkAuth(ctx)) return;
    if (!isRecord(ctx.json)) {
      return sendError(
        ctx,
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      );
    }
    handler(ctx, ctx.json);
  },
};

export function startOpenAISimulator(opts?: SimulatorOptions): Promise<Simulator> {
  return startServer(spec, opts);
}
