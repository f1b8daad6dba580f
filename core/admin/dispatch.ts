import type { APIGatewayProxyEvent } from "aws-lambda";
import { z } from "zod";
import { badRequest, GatewayError, toGatewayError } from "../api/errors.ts";
import { requestBodyText } from "../api/request-body.ts";
import { stagePath } from "../api/stage-path.ts";
import { protoKeyPath } from "../config/parse.ts";
import { authenticateAdmin } from "../gateway/authenticate.ts";
import { errorResponse, json, normalizeHeaders } from "../gateway/http.ts";
import { parseJsonBody, validate } from "../gateway/validate.ts";
import { fromStorageError } from "./errors.ts";
import { matchRoute } from "./routes.ts";
import type { AdminDeps, AdminResult } from "./types.ts";

export type { AdminChange, AdminDeps } from "./types.ts";

/** A buffered API Gateway proxy result: the admin function is not a streaming integration. */
export interface AdminResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const NO_QUERY = z.object({}).strict();

/** Registry documents are small; a megabyte is far past any real one and bounds what we parse. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/**
 * The admin API (`/admin/...`), one request path for the Lambda and portable mode. Order: authenticate
 * (401), admin role (403), route (404/405), body (413/400), then the handler. Every error leaves as the
 * OpenAI envelope with `x-request-id`.
 */
export async function handleAdminEvent(event: APIGatewayProxyEvent, deps: AdminDeps): Promise<AdminResponse> {
  const requestId = event.requestContext?.requestId || deps.newId();
  const headers = { "x-request-id": requestId };
  const requestHeaders = normalizeHeaders(event.headers, event.multiValueHeaders);
  try {
    const actor = await authenticateAdmin(requestHeaders, deps.keys).catch(async (err: unknown) => {
      if (err instanceof GatewayError && (err.status === 401 || err.status === 403))
        await reportAuthFailure(deps, requestId, requestHeaders);
      throw err;
    });
    const method = event.httpMethod.toUpperCase();
    const { handler, id } = matchRoute(method, stagePath(event));
    const query = queryOf(event);
    // A parameter no route reads would be silently ignored: refused, as the lists refuse unknown ones.
    if (!handler.query) validate(NO_QUERY, query);
    const body = handler.body
      ? parseJsonBody(
          requestBodyText(
            event,
            requestHeaders,
            MAX_ADMIN_BODY_BYTES,
            "Admin request bodies are limited to 1 MiB.",
          ),
        )
      : undefined;
    const proto = protoKeyPath(body);
    if (proto)
      throw badRequest(`Invalid '${proto}': '__proto__' cannot name a field (it would be dropped).`, proto);
    return render(await handler.run({ deps, requestId, actor, id, body, query }), headers);
  } catch (err) {
    const mapped = fromStorageError(err);
    if (!(mapped instanceof GatewayError))
      deps.log.error("admin request failed", {
        requestId,
        method: event.httpMethod,
        path: stagePath(event),
        error: err instanceof Error ? err.name : "unknown",
      });
    return errorResponse(toGatewayError(mapped), headers) as AdminResponse;
  }
}

/** The audit hook must not turn a 401 into a 500: a failing hook is logged. */
async function reportAuthFailure(deps: AdminDeps, requestId: string, headers: Record<string, string>) {
  try {
    await deps.onAuthFailure?.({ requestId, endpoint: "/admin", headers });
  } catch (err) {
    deps.log.error("auth failure not audited", {
      requestId,
      error: err instanceof Error ? err.name : "unknown",
    });
  }
}

function render(result: AdminResult, headers: Record<string, string>): AdminResponse {
  if (result.status === 204) return { statusCode: 204, headers, body: "" };
  return json(result.status, result.body, headers) as AdminResponse;
}

/**
 * API Gateway gives `null` for no query string. A parameter given twice is refused: taking one of the
 * values would quietly answer another question than the one asked (`org=a&org=b`).
 */
function queryOf(event: APIGatewayProxyEvent): Record<string, string> {
  for (const [k, values] of Object.entries(event.multiValueQueryStringParameters ?? {}))
    if ((values?.length ?? 0) > 1)
      throw new GatewayError(
        400,
        "invalid_request_error",
        `Query parameter '${k}' was given more than once.`,
        {
          param: k,
          code: "repeated_parameter",
        },
      );
  // No prototype: a parameter named `__proto__` is kept, and refused as unknown, not dropped.
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
