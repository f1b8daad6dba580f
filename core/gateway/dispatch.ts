import type { APIGatewayProxyEvent } from "aws-lambda";
import { forbidden, GatewayError, toGatewayError } from "../api/errors.ts";
import { requestBodyText } from "../api/request-body.ts";
import { stagePath } from "../api/stage-path.ts";
import { StoreBusyError } from "../storage/errors.ts";
import { authenticate } from "./authenticate.ts";
import { callerSignal } from "./caller-signal.ts";
import { chatCompletions } from "./chat.ts";
import { completeRequest, pendingWork } from "./complete.ts";
import { embeddings } from "./embeddings.ts";
import { errorResponse, json, normalizeHeaders } from "./http.ts";
import { listModels, retrieveModel } from "./models.ts";
import { newOutcome } from "./outcome.ts";
import type { GatewayDeps, GatewayResponse, RequestContext } from "./types.ts";
import { parseJsonBody } from "./validate.ts";

type Route = (
  ctx: RequestContext,
  body: unknown,
  headers: Record<string, string>,
  /** The `{model}` of `/v1/models/{model}`; empty elsewhere. */
  param: string,
) => Promise<GatewayResponse> | GatewayResponse;

interface RouteSpec {
  method: string;
  auth: boolean;
  body: boolean;
  run: Route;
}

const ROUTES: Record<string, RouteSpec> = {
  "/v1/chat/completions": { method: "POST", auth: true, body: true, run: chatCompletions },
  "/v1/embeddings": { method: "POST", auth: true, body: true, run: embeddings },
  "/v1/models": { method: "GET", auth: true, body: false, run: (ctx, _b, h) => listModels(ctx, h) },
  "/v1/models/{model}": {
    method: "GET",
    auth: true,
    body: false,
    run: (ctx, _b, h, model) => retrieveModel(ctx, model, h),
  },
  "/healthz": { method: "GET", auth: false, body: false, run: (_c, _b, h) => json(200, { status: "ok" }, h) },
};

const MODEL_PREFIX = "/v1/models/";

/**
 * The route a path takes, by its pattern, and the model id of `/v1/models/{model}`. Model ids may hold a
 * slash (`provider/model`): the SDK sends it encoded (`%2F`), and API Gateway's greedy `{model+}` also
 * passes it raw. A path no route takes is `unmatched`, the one value metrics and usage records see for
 * it: a raw path would let any caller add a metric dimension per URL it tries.
 */
function matchRoute(path: string): { pattern: string; param: string } {
  if (path in ROUTES) return { pattern: path, param: "" };
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    const raw = path.slice(MODEL_PREFIX.length);
    let param = raw;
    try {
      param = decodeURIComponent(raw);
    } catch {
      // A stray `%` that begins no escape: the id is taken as it came.
    }
    return { pattern: "/v1/models/{model}", param };
  }
  return { pattern: UNMATCHED, param: "" };
}

const UNMATCHED = "unmatched";

/**
 * The one request path, shared by Lambda and portable mode: REST proxy event in, response out.
 * Every error, whatever throws it, leaves as the OpenAI envelope with `x-request-id`.
 */
export async function handleEvent(event: APIGatewayProxyEvent, deps: GatewayDeps): Promise<GatewayResponse> {
  const startedAt = deps.now();
  const requestId = event.requestContext?.requestId || deps.newId();
  const path = normalizePath(stagePath(event));
  const match = matchRoute(path);
  const ctx: RequestContext = {
    deps,
    requestId,
    startedAt,
    headers: normalizeHeaders(event.headers, event.multiValueHeaders),
    outcome: newOutcome(requestId, match.pattern),
    deferOutcome: false,
    pending: [],
  };
  pendingWork.set(event, ctx.pending);
  const headers: Record<string, string> = { "x-request-id": requestId };
  let response: GatewayResponse;
  try {
    response = await route(ctx, event, path, match, headers);
  } catch (err) {
    const e = toGatewayError(err);
    // Another process holding the write lock is a condition the caller was told to retry, not a fault.
    if (err instanceof StoreBusyError) deps.log.warn("store busy", { requestId });
    else if (e.status >= 500 && !(err instanceof GatewayError)) {
      // The name and codes only: a message may quote the request (the log carries no content).
      // SQLite's `errstr` is its fixed text for the code ("database is locked").
      const { code, errstr } = (err ?? {}) as { code?: unknown; errstr?: unknown };
      deps.log.error(e.code === "store_unavailable" ? "store unavailable" : "unhandled error", {
        requestId,
        error: err instanceof Error ? err.name : "unknown",
        ...(typeof code === "string" ? { code } : {}),
        ...(typeof errstr === "string" ? { errstr } : {}),
      });
    }
    ctx.outcome.errorCode = e.code ?? e.type;
    if (e.code === "budget_exceeded" || e.code === "residency_violation") ctx.refusal = e.message;
    response = errorResponse(e, headers);
  }
  ctx.outcome.status = response.statusCode;
  if (!ctx.deferOutcome) {
    ctx.outcome.latencyMs = deps.now() - startedAt;
    // Reported once the answer has been written: a caller who left before all of it went out (portable
    // mode sees it) did not get it. Served, and billed, all the same: logged as a stream its caller left
    // is, 200 `client_closed`.
    completeRequest(ctx, {
      event,
      judge: () => {
        if (response.statusCode < 400 && callerSignal(requestId)?.aborted)
          ctx.outcome.errorCode ??= "client_closed";
      },
    });
  }
  return response;
}

async function route(
  ctx: RequestContext,
  event: APIGatewayProxyEvent,
  path: string,
  match: { pattern: string; param: string },
  headers: Record<string, string>,
): Promise<GatewayResponse> {
  const spec = ROUTES[match.pattern];
  const method = event.httpMethod.toUpperCase();
  if (!spec)
    throw new GatewayError(404, "invalid_request_error", `Invalid URL (${method} ${path})`, {
      code: "unknown_url",
    });
  // RFC 9110 §9.3.2: HEAD is GET without the content (load balancers and uptime checks send it).
  const head = method === "HEAD" && spec.method === "GET";
  if (spec.method !== method && !head) {
    const allow = spec.method === "GET" ? "GET, HEAD" : spec.method;
    throw new GatewayError(
      405,
      "invalid_request_error",
      `Method ${method} is not allowed on ${path}; use ${allow.replace(", ", " or ")}.`,
      // RFC 9110 §15.5.6: a 405 says which methods the resource takes.
      { code: "method_not_allowed", headers: { allow } },
    );
  }
  if (spec.auth) {
    const key = await authenticate(ctx.headers, ctx.deps.keys);
    ctx.key = key;
    ctx.outcome.keyId = key.id;
    ctx.outcome.org = key.org;
    ctx.snapshot = await ctx.deps.registry.get();
    // A key outlives its org only when a config file that no longer declares the org is applied (the
    // admin API refuses to delete an org a key uses). Served, it would spend with none of the org's
    // budgets, residency or redaction: it is refused until the org is back or the key is removed.
    if (!ctx.snapshot.orgs.has(key.org)) {
      throw forbidden(
        `This key's organization '${key.org}' no longer exists; ask an admin to restore it or to remove the key.`,
        "org_not_found",
      );
    }
  }
  let body: unknown;
  if (spec.body) {
    const limit = ctx.deps.maxBodyBytes;
    body = parseJsonBody(
      requestBodyText(event, ctx.headers, limit, `Request body exceeds the ${limit}-byte limit.`),
    );
  }
  const response = await spec.run(ctx, body, headers, match.param);
  return head ? { ...response, body: "" } : response;
}

/** REST APIs may be called with a trailing slash; routes are matched without it. */
const normalizePath = (path: string | undefined): string => {
  const p = path || "/";
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
};
