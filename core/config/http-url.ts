import { z } from "zod";

/**
 * An http(s) URL without credentials in it. The rules are one pattern, which the published JSON Schema
 * keeps (it reads `z.url`'s protocol option as a bare `format: uri`, which takes `ftp:` and `mailto:`).
 * A `user:password@` part would be stored, shown by the admin API and written to the audit trail as it
 * is: provider keys belong in `apiKeyEnv` or `headers`.
 */
export const httpUrl = () =>
  z
    .string()
    // On the value as written: z.url trims it and drops tabs and line breaks (zod 4), so a value it
    // accepts may not be the one a caller of the URL (a base URL from the environment) gets. Printable
    // ASCII only: an invisible character (a zero-width space, a direction mark or isolate, a variation
    // selector) would reach every call percent-encoded in the path, or be dropped from the host by
    // IDNA mapping; no list of them stays complete. Anything else is percent-encoded, and an
    // internationalized host written as punycode (xn--…).
    .regex(
      /^(?=[\x21-\x7e]+$)https?:\/\/[^/?#@]+(?:[/?#].*)?$/,
      "must be an http(s) URL (lowercase scheme) with a host and no credentials in it (user:password@: use apiKeyEnv or headers), in printable ASCII (no spaces or invisible characters; percent-encode the rest, a host as punycode)",
    )
    .pipe(
      z.url({
        protocol: /^https?$/,
        error:
          "must be a URL that parses: a host a URL can hold (IPv4 parts up to 255) and a port up to 65535",
      }),
    );
