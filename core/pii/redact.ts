import { DETECTORS, isLabelKey } from "./detectors.ts";
import { emptyCounts, maskFor, type PiiCounts, type PiiKind } from "./kinds.ts";

/** A span of the input a detector claimed; `kind` is null when its validator rejected the match. */
interface Span {
  start: number;
  end: number;
  kind: PiiKind | null;
}

/**
 * Runs every detector once over the text, in priority order. A match that overlaps a span an earlier
 * detector claimed is dropped, so the most specific reading of any stretch of text wins. With
 * `firstOnly`, stops at the first accepted span (which no later detector can displace).
 */
function scan(text: string, firstOnly: boolean): Span[] {
  const spans: Span[] = [];
  let taken: Uint8Array | undefined;
  for (const detector of DETECTORS) {
    const re = detector.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0] === "") {
        re.lastIndex++;
        continue;
      }
      const group = m.indices?.groups?.v;
      const start = group ? group[0] : m.index;
      let end = group ? group[1] : m.index + m[0].length;
      taken ??= new Uint8Array(text.length);
      if (overlaps(taken, start, end)) continue;
      const verdict = detector.validate ? detector.validate(text.slice(start, end), text, start) : true;
      if (verdict === "ignore") {
        re.lastIndex = start + 1;
        continue;
      }
      const accepted = verdict !== false && verdict !== 0;
      if (typeof verdict === "number" && verdict > 0) end = start + verdict;
      taken.fill(1, start, end);
      spans.push({ start, end, kind: accepted ? detector.kind : null });
      if (accepted && firstOnly) {
        re.lastIndex = 0;
        return spans;
      }
    }
  }
  return spans;
}

function overlaps(taken: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (taken[i] === 1) return true;
  return false;
}

export interface Redaction {
  /** The text with every finding replaced by its mask (`[EMAIL]`, `[SECRET:OPENAI_KEY]`, …). */
  text: string;
  /** How many spans of each kind were masked; every kind is present, 0 when none. */
  found: PiiCounts;
  /** The total of `found`. */
  count: number;
}

/** Masks personal data and secrets in a string. Idempotent: masks are never detected again. */
export function redactText(text: string): Redaction {
  const found = emptyCounts();
  const spans = text === "" ? [] : scan(text, false).filter((s) => s.kind !== null);
  if (spans.length === 0) return { text, found, count: 0 };
  spans.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const span of spans) {
    const kind = span.kind!;
    out += text.slice(at, span.start) + maskFor(kind);
    at = span.end;
    found[kind]++;
  }
  return { text: out + text.slice(at), found, count: spans.length };
}

/**
 * A JSON value masked with its key as the label it is. `{"aws_secret_access_key": "…"}` and
 * `{"ssn": "219 09 9999"}` say in the key what prose says beside the value, and the labelled detectors
 * (an AWS secret key, a spaced SSN, a compact phone number) need that label. The key is read as words
 * (`SecretAccessKey`, `social_security_number`: "Secret Access Key", "social security number") put in
 * front of the value; what that masks in the value is kept, and the label itself never changes.
 */
function redactEntry(key: string | undefined, value: string): Redaction {
  const alone = redactText(value);
  if (key === undefined || key.length > 64 || !isLabelKey(key)) return alone;
  const label = `${key.replace(/([a-z\d])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ")}: `;
  const probe = redactText(label + value);
  // Only when the label found more, and came through whole (a key that is itself PII is no label, and
  // a finding across the boundary is not the value's).
  if (probe.count <= alone.count || !probe.text.startsWith(label)) return alone;
  return { text: probe.text.slice(label.length), found: probe.found, count: probe.count };
}

/** A string that may hold a JSON object or array: its first non-blank character opens one. */
const JSON_START = /^\s*[[{]/;

/**
 * Masks a string that holds JSON (a tool call's arguments) as the JSON it is: string values masked in
 * place, and a number that is itself a finding (a card number sent as a number) replaced by its mask
 * as a string, so the result still parses. Masking the raw text would turn `{"card":4111111111111111}`
 * into `{"card":[CARD]}`, which providers refuse and nobody can parse. Text that is not a JSON object
 * or array is masked as text.
 */
export function redactJsonText(text: string, key?: string): Redaction {
  // Checked without copying the string: every value of every log line passes here.
  if (!JSON_START.test(text)) return redactEntry(key, text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return redactEntry(key, text);
  }
  const found = emptyCounts();
  let count = 0;
  const mask = (s: string, key?: string): string => {
    const r = redactEntry(key, s);
    for (const [kind, n] of Object.entries(r.found)) found[kind as keyof PiiCounts] += n;
    count += r.count;
    return r.text;
  };
  const walkJson = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") return mask(v, key);
    if (typeof v === "number") {
      const masked = mask(String(v), key);
      return masked === String(v) ? v : masked;
    }
    // A list under a key is labelled by it: `{"phones": ["…", "…"]}`.
    if (Array.isArray(v)) return v.map((x) => walkJson(x, key));
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walkJson(x, k)]));
    return v;
  };
  const masked = walkJson(parsed);
  return count === 0 ? { text, found, count } : { text: JSON.stringify(masked), found, count };
}

/** Whether redactText would mask anything (stops at the first finding). */
export function containsPii(text: string): boolean {
  return text !== "" && scan(text, true).some((s) => s.kind !== null);
}

/**
 * A redacted deep copy: every string inside arrays, plain objects, Maps and Sets is passed through
 * redactJsonText (redactText, keeping a JSON string JSON); object keys and Map keys are kept. Strings
 * and object keys come out well-formed (a lone surrogate becomes U+FFFD). Cycles and shared references
 * are reproduced in the copy; the input is never mutated. Dates, binary buffers and other non-string primitives are kept as
 * they are. Errors become `{ name, message, …own fields }`, and instances of other classes become plain
 * objects of their own enumerable fields (what JSON.stringify would keep), so no string escapes.
 */
export function redactValue(value: unknown): unknown {
  return walk(value, new WeakMap());
}

function walk(value: unknown, seen: WeakMap<object, unknown>, key?: string): unknown {
  // A string holding JSON (a tool call's arguments in an audit record) stays JSON. A lone surrogate
  // becomes U+FFFD: a record with one cannot be canonicalized (RFC 8785), and would stall its chain.
  if (typeof value === "string") return redactJsonText(value.toWellFormed(), key).text;
  // A number under a label (`{ ssn: 219099999 }`) is the labelled value too.
  if (typeof value === "number" && key !== undefined && isLabelKey(key)) {
    const r = redactEntry(key, String(value));
    return r.count > 0 ? r.text : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return value;
  if (value instanceof ArrayBuffer) return value;
  const copied = seen.get(value);
  if (copied !== undefined) return copied;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, seen, key));
    return out;
  }
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(value, out);
    for (const [k, v] of value) out.set(k, walk(v, seen));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set<unknown>();
    seen.set(value, out);
    for (const v of value) out.add(walk(v, seen));
    return out;
  }
  const out: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  seen.set(value, out);
  if (value instanceof Error) {
    out.name = value.name;
    out.message = redactText(value.message).text;
  }
  for (const [k, v] of Object.entries(value)) out[k.toWellFormed()] = walk(v, seen, k);
  return out;
}
