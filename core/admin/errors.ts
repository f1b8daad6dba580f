import { GatewayError, notFound } from "../api/errors.ts";
import { ConflictError, NotFoundError } from "../storage/errors.ts";

export const conflict = (message: string, param: string | null = null) =>
  new GatewayError(409, "invalid_request_error", message, { code: "conflict", param });

export const missing = (kind: string, id: string) =>
  notFound(`No ${kind} '${id}' exists.`, `${kind === "API key" ? "key" : kind}_not_found`);

/**
 * Storage conflicts that slip past the handlers' own checks (another admin won a race between our read
 * and our write) still reach the caller as 409/404, not as a 500.
 */
export function fromStorageError(err: unknown): unknown {
  if (err instanceof ConflictError) return conflict(err.message);
  if (err instanceof NotFoundError) return notFound(err.message, "not_found");
  return err;
}
