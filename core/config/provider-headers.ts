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
// RFC 9110 field-value characters: tab, visible ASCII, and the bytes above it (obs-text), which a
// string carries as U+0080–U+00FF. No control character: CR or LF would start another header. Nothing
// above U+00FF: a header is bytes, and the HTTP client refuses such a value on every call it makes.
const headerValue = z
  .string()
  .max(1024)
  .regex(
    /^[\t\x20-\x7e\x80-\xff]*$/,
    "header values hold tabs, visible ASCII and Latin-1 characters only (no control characters, nothing above U+00FF)",
  );

/** `providers[].headers`: extra headers sent with every call to that provider. */
export const providerHeaders = z.record(headerName, headerValue);
