/** The request headers that carry the gateway's provider credential (OpenAI, Anthropic, Gemini). */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "x-goog-api-key"] as const;

/**
 * A provider's error text with the credential the gateway sent it masked. A provider's 400 or 429
 * message reaches the caller as it is (upstream-errors.ts), and a provider (or a proxy in front of one)
 * that echoes the request's headers would otherwise hand the gateway's key to every caller. Values
 * shorter than 8 characters are left: masking them would mangle ordinary words.
 */
export function withoutCredentials(text: string, headers: Readonly<Record<string, string>>): string {
  let out = text;
  for (const name of CREDENTIAL_HEADERS) {
    const secret = headers[name]?.replace(/^Bearer\s+/i, "");
    if (secret && secret.length >= 8 && out.includes(secret)) out = out.replaceAll(secret, "[REDACTED]");
  }
  return out;
}
