import { forbidden, unauthorized } from "../api/errors.ts";
import type { ApiKeyRecord, KeyStore } from "../keys/port.ts";
import { sameDigest, sha256Hex } from "../keys/secret.ts";

/**
 * Accepts `Authorization: Bearer <key>` (OpenAI SDKs) and `x-api-key` (Anthropic-style clients), or both
 * holding the same key; an Authorization of another scheme (a proxy's Basic credentials) leaves the
 * choice to `x-api-key`. A Bearer that is not one key (two Authorization headers joined, `Bearer a,
 * Bearer b`), or a Bearer key beside a different `x-api-key`, is no key at all: `null`. A proxy in front
 * that read the other header would otherwise disagree with the gateway about who called.
 */
export function presentedKey(headers: Record<string, string>): string | undefined | null {
  const authorization = headers.authorization ?? "";
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  // A Bearer anywhere in a joined list (`Basic a, Bearer k`, `, Bearer k`) is a key the gateway would
  // not be reading while a proxy might: none.
  if (bearer === undefined && /(^|,)\s*Bearer\s/i.test(authorization)) return null;
  const apiKey = headers["x-api-key"]?.trim() || undefined;
  if (bearer !== undefined && apiKey !== undefined && apiKey !== bearer) return null;
  return bearer ?? apiKey;
}

export async function authenticate(headers: Record<string, string>, keys: KeyStore): Promise<ApiKeyRecord> {
  const key = presentedKey(headers);
  if (key === null)
    throw unauthorized(
      "Send one API key: the Authorization header must hold one Bearer key, and x-api-key, if sent too, the same one.",
    );
  if (!key) {
    throw unauthorized(
      "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY).",
    );
  }
  const digest = sha256Hex(key);
  const record = await keys.findBySha256(digest);
  // The lookup is by digest; the constant-time comparison keeps a timing side channel out of any store
  // whose index lookup is not itself constant time.
  if (!record || !sameDigest(record.sha256, digest)) throw unauthorized("Incorrect API key provided.");
  return record;
}

/** The admin API's and the metrics endpoint's gate: a known key (401 otherwise) with the admin role (403). */
export async function authenticateAdmin(
  headers: Record<string, string>,
  keys: KeyStore,
): Promise<ApiKeyRecord> {
  const actor = await authenticate(headers, keys);
  if (actor.role !== "admin") throw forbidden("This endpoint needs an admin key.", "admin_key_required");
  return actor;
}
