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
    // accepts may not be the one a caller of the URL (a base URL from the environment) gets.
    // Control characters spelled as ranges, not \p{Cc}: an editor may read the published pattern
    // without the `u` flag, where \p is a plain `p`. So are the invisible ones (soft hyphen, zero-width
    // and direction marks), which a path would carry percent-encoded to every call.
    .regex(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
      /^https?:\/\/[^/?#@\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064]+(?:[/?#][^\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064]*)?$/,
      "must be an http(s) URL (lowercase scheme) with a host, no credentials in it (user:password@: use apiKeyEnv or headers) and no spaces or control characters",
    )
    .pipe(
      z.url({
        protocol: /^https?$/,
        error:
          "must be a URL that parses: a host a URL can hold (IPv4 parts up to 255) and a port up to 65535",
      }),
    );
