import { z } from "zod";

/**
 * Headers the gateway owns on an upstream call: credentials (which live in secrets, never in the
 * registry), the API version its mappers are written against, and framing the HTTP client sets.
 */
const RESERVED_HEADERS = new Set([
  "authorization",
  "x-api-key",
  "x-goog-api-key",
  "anthropic-version",
  "content-type",
  "content-length",
  "host",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);

/** RFC 9110 field names (a token), lowercase so that one name cannot appear in two spellings. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, "header names are lowercase RFC 9110 tokens")
  // A pattern rather than a refinement, so the published JSON Schema refuses these names too.
  .regex(new RegExp(`^(?!(?:${[...RESERVED_HEADERS].join("|")})$)`), "the gateway sets this header itself");
// No CR, LF or NUL: a value must not be able to start another header.
const headerValue = z
  .string()
  .max(1024)
  .regex(/^[^\r\n\0]*$/, "header values may not contain CR, LF or NUL");

/** `providers[].headers`: extra headers sent with every call to that provider. */
export const providerHeaders = z.record(headerName, headerValue);
