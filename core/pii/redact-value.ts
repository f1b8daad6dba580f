import { isLabelKey } from "./detectors.ts";
import { maskEntryKeys, maskName } from "./mask-names.ts";
import { childKey, MAX_DEPTH, numberKey, redactEntry, redactJsonText } from "./redact.ts";
import { redactText } from "./redact-text.ts";

/**
 * A redacted deep copy: every string inside arrays, plain objects, Maps and Sets is passed through
 * redactJsonText (redactText, keeping a JSON string JSON); object keys and Map's string keys are masked
 * as text (maskEntryKeys). Strings and object keys come out well-formed (a lone surrogate becomes U+FFFD). Cycles and shared references
 * are reproduced in the copy; the input is never mutated. Dates, binary buffers and other non-string primitives are kept as
 * they are. Errors become `{ name, message, …own fields }`, and instances of other classes become plain
 * objects of their own enumerable fields (what JSON.stringify would keep), so no string escapes.
 */
export function redactValue(value: unknown): unknown {
  return walk(value, new WeakMap());
}

/**
 * How deep redactValue walks an object: a request body of MAX_DEPTH levels inside an audit record's
 * own few, with room to spare; what is deeper is cut rather than overflow the stack.
 */
const MAX_VALUE_DEPTH = 2 * MAX_DEPTH;

function walk(value: unknown, seen: WeakMap<object, unknown>, key?: string, depth = 0): unknown {
  // A string holding JSON (a tool call's arguments in an audit record) stays JSON. A lone surrogate
  // becomes U+FFFD: a record with one cannot be canonicalized (RFC 8785), and would stall its chain.
  if (typeof value === "string") return redactJsonText(value.toWellFormed(), key).text;
  // A number under a label (`{ ssn: 219099999 }`) is the labelled value too.
  if (typeof value === "number" && numberKey(key, value) !== undefined) {
    const r = redactEntry(key, String(value));
    return r.count > 0 ? r.text : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_VALUE_DEPTH) return "[nested too deep]";
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return value;
  if (value instanceof ArrayBuffer) return value;
  const copied = seen.get(value);
  if (copied !== undefined) return copied;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, seen, key, depth + 1));
    return out;
  }
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(value, out);
    for (const [k, v] of value) {
      const masked = typeof k === "string" ? maskName(k.toWellFormed()).text : k;
      // Keys that mask alike keep the first value; a Map's keys are the program's own far more often.
      if (!out.has(masked))
        out.set(masked, walk(v, seen, typeof k === "string" ? childKey(key, k) : key, depth + 1));
    }
    return out;
  }
  if (value instanceof Set) {
    const out = new Set<unknown>();
    seen.set(value, out);
    for (const v of value) out.add(walk(v, seen, key, depth + 1));
    return out;
  }
  const out: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  seen.set(value, out);
  if (value instanceof Error) {
    out.name = value.name;
    out.message = redactText(value.message).text;
  }
  const entries = Object.entries(value).map(
    ([k, v]) => [k.toWellFormed(), walk(v, seen, childKey(key, k), depth + 1)] as const,
  );
  const labelled = key !== undefined && isLabelKey(key) ? (k: string) => redactEntry(key, k) : maskName;
  for (const [k, v] of maskEntryKeys(entries, () => {}, labelled)) {
    // A member named `__proto__` (JSON.parse makes one of `{"__proto__": …}`) assigned to `{}` would set
    // its prototype instead, and vanish from the audit record of what was sent.
    if (k === "__proto__")
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}
