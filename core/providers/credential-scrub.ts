import { GatewayError } from "../api/errors.ts";

/** The request headers that carry the gateway's provider credential (OpenAI, Anthropic, Gemini). */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "x-goog-api-key"] as const;

/**
 * A provider's error text with the credential the gateway sent it masked. A provider's 400 or 429
 * message reaches the caller as it is (upstream-errors.ts), and a provider (or a proxy in front of one)
 * that echoes the request's headers would otherwise hand the gateway's key to every caller. Values
 * shorter than 8 characters are left: masking them would mangle ordinary words. With `cutShort` (the
 * default, for error text), a key echoed cut short (`sk-proj-AbCd…wxyz`, `sk-proj-AbCd****`) is masked
 * too: its head past any public prefix, and the key-like run after it. An answer's own text is read
 * without it, as a stream's is: a model writing `sk-ant-api03-…` in an example is not an echo.
 */
export function withoutCredentials(
  text: string,
  headers: Readonly<Record<string, string>>,
  { cutShort = true } = {},
): string {
  let out = text;
  for (const secret of credentialsIn(headers)) {
    if (out.includes(secret)) out = out.replaceAll(secret, "[REDACTED]");
    const head = cutShort ? headOf(secret) : undefined;
    if (head) out = withoutHead(out, head);
  }
  return out;
}

/** The credentials the gateway sent among a request's headers (at least 8 characters each). */
export function credentialsIn(headers: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const name of CREDENTIAL_HEADERS) {
    const secret = headers[name]?.replace(/^Bearer\s+/i, "");
    if (secret && secret.length >= 8) out.push(secret);
  }
  return out;
}

/** `text` with each of `secrets` (credentialsIn) masked where it stands whole. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, "[REDACTED]");
  return out;
}

/**
 * Whether JSON text may hold one of the secrets in a string: as written, as JSON escapes it (a key with
 * a `"` or `\` in it), or behind an escape inside a string that is JSON itself (tool arguments:
 * `\u0073k-…` there is written `\\u0073` here).
 */
export function mayHoldSecrets(json: string, secrets: readonly string[]): boolean {
  if (secrets.length === 0) return false;
  if (json.includes("\\\\u") || json.includes("\\\\/")) return true;
  return secrets.some((s) => json.includes(s) || json.includes(JSON.stringify(s).slice(1, -1)));
}

/** A string that may hold a JSON object or array. */
const JSON_START = /^\s*[[{]/;

/**
 * A value (a parsed answer or chunk) with the credentials masked in every string it holds, keys
 * included; the value itself when none is there (`json`, its JSON text, says when to look). Walked, not
 * rewritten as text: the JSON's structure is never touched (a key of digits would otherwise rewrite a
 * timestamp). Escapes are decoded by then (`\u0070rovkey…`, `\/`), and a string that is JSON itself
 * (tool arguments, a json_schema answer) is read parsed, so escapes in it hide nothing either.
 */
export function valueWithoutSecrets<T>(
  value: T,
  secrets: readonly string[],
  json = JSON.stringify(value),
): T {
  if (!mayHoldSecrets(json, secrets)) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const masked = withoutSecrets(v, secrets);
      if (masked !== v || !v.includes("\\") || !JSON_START.test(v)) return masked;
      try {
        const inner = JSON.parse(v) as unknown;
        const again = walk(inner);
        return JSON.stringify(again) === JSON.stringify(inner) ? v : JSON.stringify(again);
      } catch {
        return v;
      }
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [withoutSecrets(k, secrets), walk(x)]));
  };
  const out = walk(value);
  return JSON.stringify(out) === json ? value : (out as T);
}

/**
 * Prefixes every key of a kind starts with (OpenAI's project and service-account keys, Anthropic's,
 * Gemini's): no mark of this key. Its head is what comes after them.
 */
const PUBLIC_PREFIX = /^(?:sk-ant-[a-z]+\d*-|sk-(?:proj|svcacct|admin)-|sk-|AIza)/;
/** Characters of the key's own that mark an echo of it. */
const HEAD = 8;

/** The part of a key that marks an echo of it, or undefined for a key too short to spare one. */
function headOf(secret: string): string | undefined {
  const end = (PUBLIC_PREFIX.exec(secret)?.[0].length ?? 0) + HEAD;
  return secret.length >= end + HEAD ? secret.slice(0, end) : undefined;
}

/** Characters of a key, or of the dots and stars that stand for its cut middle. */
const KEYLIKE = /[\w.*~+/=…-]/;

function withoutHead(text: string, head: string): string {
  let out = "";
  let from = 0;
  for (let at = text.indexOf(head); at >= 0; at = text.indexOf(head, from)) {
    let end = at + head.length;
    while (end < text.length && KEYLIKE.test(text[end]!)) end++;
    out += `${text.slice(from, at)}[REDACTED]`;
    from = end;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * A provider's error with the credential masked in every field that carries the provider's words: its
 * message, the parameter it names, and a code taken from it (an error event's `type`, which an unknown
 * kind passes on as the code). Read out of the provider's JSON, so escaped forms are plain here.
 */
export function errorWithoutCredentials(
  err: GatewayError,
  headers: Readonly<Record<string, string>>,
): GatewayError {
  const scrub = (text: string | null) => (text === null ? null : withoutCredentials(text, headers));
  const message = withoutCredentials(err.message, headers);
  const param = scrub(err.param);
  const code = scrub(err.code);
  if (message === err.message && param === err.param && code === err.code) return err;
  return new GatewayError(err.status, err.type, message, {
    param,
    code,
    headers: err.headers,
    ...(err.routeAs === null ? {} : { routeAs: err.routeAs }),
    billedUsage: err.billedUsage,
  });
}
