/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), https://www.rfc-editor.org/rfc/rfc8785:
 * - object members sorted by their names as arrays of UTF-16 code units (§3.2.3), which is exactly what
 *   `Array.prototype.sort()` without a comparator does for strings; no locale, no normalization;
 * - no whitespace;
 * - strings serialized as ECMAScript `JSON.stringify` does (§3.2.2.2): `\"`, `\\`, `\b \f \n \r \t`,
 *   other controls below U+0020 as lowercase `\u00xx`, everything else (`/`, non-ASCII) as is;
 * - numbers in ECMAScript's shortest round-trip form (§3.2.2.3, `JSON.stringify(n)`): `4.50` → `4.5`,
 *   `1E30` → `1e+30`, `-0` → `0`; NaN and ±Infinity are errors;
 * - literals `null`, `true`, `false`; arrays in order.
 *
 * JSON data only, as JSON.stringify would see it, so that `canonical(x) === canonical(JSON.parse(JSON.stringify(x)))`
 * (a record hashes the same before and after a trip through a store): `toJSON` is honoured (Dates become
 * ISO strings), members whose value is `undefined` are omitted, an `undefined` array element is `null`.
 * Errors (`CanonicalizationError`): NaN/Infinity, bigint, functions, symbols, strings with a lone
 * surrogate (RFC 8785 requires I-JSON, RFC 7493 §2.1), and cycles.
 */
export class CanonicalizationError extends Error {
  override readonly name = "CanonicalizationError";
}

export function canonical(value: unknown): string {
  const out = serialize(value, new Set(), "$");
  if (out === undefined) throw new CanonicalizationError("$: not JSON-serializable (undefined)");
  return out;
}

/** The canonical form as UTF-8 bytes: what is hashed and signed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonical(value), "utf8");
}

function serializeString(s: string, path: string): string {
  if (!s.isWellFormed()) throw new CanonicalizationError(`${path}: string with a lone surrogate`);
  return JSON.stringify(s);
}

function serialize(value: unknown, seen: Set<object>, path: string): string | undefined {
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  switch (typeof value) {
    case "string":
      return serializeString(value, path);
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalizationError(`${path}: ${value} is not valid JSON`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return undefined;
    case "object":
      break;
    default:
      throw new CanonicalizationError(`${path}: a ${typeof value} is not JSON`);
  }
  if (value === null) return "null";
  if (seen.has(value)) throw new CanonicalizationError(`${path}: cycle`);
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((v, i) => serialize(v, seen, `${path}[${i}]`) ?? "null").join(",")}]`;
    }
    const parts: string[] = [];
    // Default sort = by UTF-16 code units, as RFC 8785 §3.2.3 requires.
    for (const key of Object.keys(value).sort()) {
      const member = serialize((value as Record<string, unknown>)[key], seen, `${path}.${key}`);
      if (member !== undefined) parts.push(`${serializeString(key, path)}:${member}`);
    }
    return `{${parts.join(",")}}`;
  } finally {
    seen.delete(value);
  }
}
