import type { APIGatewayProxyEvent } from "aws-lambda";
import { forbidden, GatewayError } from "../api/errors.ts";
import { authenticate } from "../gateway/authenticate.ts";
import { errorResponse, normalizeHeaders } from "../gateway/http.ts";
import type { GatewayResponse } from "../gateway/types.ts";
import type { KeyStore } from "../keys/port.ts";

export interface AdminDeps {
  keys: KeyStore;
  newId(): string;
}

/**
 * The admin API (`/admin/...`). Only admin keys get past authentication; the registry, org and key
 * operations arrive with issue #4, so every authorized call is answered 501 until then.
 */
export async function handleAdminEvent(
  event: APIGatewayProxyEvent,
  deps: AdminDeps,
): Promise<GatewayResponse & { body: string }> {
  const headers = { "x-request-id": event.requestContext?.requestId || deps.newId() };
  try {
    const key = await authenticate(normalizeHeaders(event.headers), deps.keys);
    if (key.role !== "admin") throw forbidden("This endpoint needs an admin key.", "admin_key_required");
    throw new GatewayError(
      501,
      "server_error",
      `The admin API (${event.httpMethod} ${event.path}) is not implemented yet.`,
      {
        code: "not_implemented",
      },
    );
  } catch (err) {
    return errorResponse(err, headers) as GatewayResponse & { body: string };
  }
}
