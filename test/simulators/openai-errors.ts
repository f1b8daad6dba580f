/** OpenAI error envelope, response headers and Bearer auth. */
import type { Ctx } from "./server.ts";
import { hex } from "./util.ts";
import { type SseEvent, sendJson } from "./write.ts";

const ERROR_TYPES: Record<number, [type: string, code: string | null, message: string]> = {
  400: ["invalid_request_error", null, "Invalid request."],
  401: ["invalid_request_error", "invalid_api_key", "Incorrect API key provided."],
  403: [
    "invalid_request_error",
    "unsupported_country_region_territory",
    "Country, region, or territory not supported",
  ],
  404: ["invalid_request_error", null, "The model does not exist or you do not have access to it."],
  429: ["requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."],
  500: ["server_error", null, "The server had an error while processing your request. Sorry about that!"],
  503: ["server_error", null, "The server is overloaded or not ready yet."],
};

export function headers(ctx: Ctx): Record<string, string> {
  return { "x-request-id": `req_${hex(`oa${ctx.requestIndex}`, 32)}`, "openai-processing-ms": "42" };
}

export function sendError(
  ctx: Ctx,
  status: number,
  message?: string,
  param: string | null = null,
  code?: string | null,
): void {
  const [type, defCode, defMessage] = ERROR_TYPES[status] ?? ["api_error", null, `HTTP ${status}`];
  const error = { message: message ?? defMessage, type, param, code: code === undefined ? defCode : code };
  sendJson(ctx, status, { error }, headers(ctx));
}

/** OpenAI's in-stream error: a data line holding the error envelope instead of a chunk. */
export function streamError(_ctx: Ctx, status = 500): SseEvent {
  const [type, code, message] = ERROR_TYPES[status] ?? ["api_error", null, `HTTP ${status}`];
  return { data: JSON.stringify({ error: { message, type, param: null, code } }) };
}

export function checkAuth(ctx: Ctx): boolean {
  const auth = ctx.req.headers.authorization;
  if (auth === undefined || !auth.startsWith("Bearer ")) {
    sendError(
      ctx,
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      null,
      null,
    );
    return false;
  }
  const key = auth.slice("Bearer ".length).trim();
  if (key !== ctx.opts.apiKey) {
    sendError(
      ctx,
      401,
      `Incorrect API key provided: ${key.slice(0, 3)}***. You can find your API key at https://platform.openai.com/account/api-keys.`,
    );
    return false;
  }
  return true;
}
