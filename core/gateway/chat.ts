import { chatRequest } from "../api/chat-request.ts";
import { chatAdapters } from "../providers/adapters.ts";
import type { ResponseMeta } from "../providers/types.ts";
import { parseUpstreamJson } from "../providers/upstream-json.ts";
import { json, SSE_HEADERS } from "./http.ts";
import { recordUsage } from "./outcome.ts";
import { translateStream } from "./stream-translator.ts";
import { endpointFor, mapContext, markTarget, resolveTargets } from "./target.ts";
import type { GatewayResponse, RequestContext } from "./types.ts";
import { callUpstream, MAX_RESPONSE_BODY, readText } from "./upstream-call.ts";
import { validate } from "./validate.ts";

/** POST /v1/chat/completions. Only the first target is tried until routing (fallbacks) lands. */
export async function chatCompletions(
  ctx: RequestContext,
  body: unknown,
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const { deps } = ctx;
  const req = validate(chatRequest, body);
  ctx.outcome.stream = req.stream === true;
  const target = resolveTargets(ctx, req.model)[0]!;
  markTarget(ctx, target, headers);
  const adapter = chatAdapters[target.provider.kind];
  const upstreamRequest = adapter.toRequest(req, mapContext(deps, target));
  const meta: ResponseMeta = {
    id: `chatcmpl-${ctx.requestId}`,
    created: Math.floor(deps.now() / 1000),
    model: target.model,
  };
  const endpoint = endpointFor(deps, target);
  const call = await callUpstream(deps.transports[target.provider.kind], endpoint, upstreamRequest);

  if (!req.stream) {
    try {
      const text = await readText(call.response.body, MAX_RESPONSE_BODY, target.provider.id);
      const completion = adapter.fromResponse(parseUpstreamJson(text, target.provider.id), meta);
      recordUsage(ctx.outcome, completion.usage);
      return json(200, completion, headers);
    } finally {
      call.done();
    }
  }

  // The stream may end before this function returns (a short answer); its outcome is reported then.
  ctx.deferOutcome = true;
  ctx.outcome.status = 200;
  const stream = await translateStream(call.response.body, {
    adapter,
    meta,
    provider: target.provider.id,
    includeUsage: req.stream_options?.include_usage === true,
    firstEventMs: target.timeouts.firstByteMs,
    keepAliveMs: deps.keepAliveMs,
    now: deps.now,
    onEnd: (end) => {
      call.done();
      const o = ctx.outcome;
      recordUsage(o, end.usage);
      if (end.firstChunkAt !== undefined) o.ttftMs = end.firstChunkAt - ctx.startedAt;
      o.latencyMs = deps.now() - ctx.startedAt;
      if (end.error) o.errorCode = end.error.code ?? "upstream_error";
      else if (end.clientClosed) o.errorCode = "client_closed";
      // The outcome of a stream is only known here, after the last byte: report it now.
      if (end.firstChunkAt !== undefined) deps.onOutcome?.(o);
    },
  }).catch((err: unknown) => {
    call.done();
    ctx.deferOutcome = false;
    throw err;
  });
  return { statusCode: 200, headers: { ...headers, ...SSE_HEADERS }, body: stream };
}
