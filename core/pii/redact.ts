import { nestsDeeperThan } from "../api/json-depth.ts";
import { isLabelKey, keyLabel, keyWords } from "./detectors.ts";
import { exactJson, keepNumberText } from "./exact-json.ts";
import { emptyCounts, type PiiCounts } from "./kinds.ts";
import { maskEntryKeys, maskName } from "./mask-names.ts";
import { mayHoldFindings } from "./may-hold-findings.ts";
import { type Redaction, redactText } from "./redact-text.ts";

/**
 * A JSON value masked with its key as the label it is. `{"aws_secret_access_key": "…"}` and
 * `{"ssn": "219 09 9999"}` say in the key what prose says beside the value, and the labelled detectors
 * (an AWS secret key, a spaced SSN, a compact phone number) need that label. The key is read as words
 * (`SecretAccessKey`, `social_security_number`: "Secret Access Key", "social security number") put in
 * front of the value; what that masks in the value is kept, and the label itself never changes.
 */
export function redactEntry(key: string | undefined, value: string): Redaction {
  const alone = redactText(value);
  const words = key === undefined ? undefined : keyLabel(key);
  if (words === undefined) return alone;
  const label = `${words}: `;
  const probe = redactText(label + value);
  // Only when the label found more, and came through whole (a finding across the boundary is not the
  // value's).
  if (probe.count <= alone.count || !probe.text.startsWith(label)) return alone;
  return { text: probe.text.slice(label.length), found: probe.found, count: probe.count };
}

/**
 * The key a number is read with. A number is a count or an id far more often than a phone number: under
 * a phone word it must have a whole number's 10+ digits, under an SSN word exactly 9.
 */
export function numberKey(key: string | undefined, n: number): string | undefined {
  const words = key === undefined ? undefined : keyLabel(key);
  if (words === undefined || !Number.isInteger(n)) return undefined;
  const digits = String(Math.abs(n)).length;
  if (/\b(?:ssns?|social)\b/.test(words)) return digits === 9 ? key : undefined;
  return digits >= 10 ? key : undefined;
}

/** A named value (a log field, an object's entry): its name read as a label, as redactValue reads keys. */
export function redactNamed(key: string, value: string | number): Redaction {
  if (typeof value === "string") return redactJsonText(value, key);
  const text = String(value);
  return numberKey(key, value) === undefined ? redactText(text) : redactEntry(key, text);
}

/**
 * A number's text is digits, a point and an exponent: without a label, only a card number (13 digits
 * at least, card.ts) is a finding in it; phone numbers, SSNs and addresses need separators or a sign
 * that a number's text never has. Shorter numbers are not scanned (a JSON array of a million small
 * numbers cost seconds of scans).
 */
const CARD_DIGITS = 13;

/** Values up to this long are remembered within a document (redactJsonText). */
const SHORT = 64;

/** Masks one value of a document, read with the key it comes under; returns it masked or as it was. */
type Mask = (s: string, key?: string) => string;

/** A string that may hold a JSON object or array: its first non-blank character opens one. */
const JSON_START = /^\s*[[{]/;

/**
 * Masks a string that holds JSON (a tool call's arguments) as the JSON it is: string values masked in
 * place, and a number that is itself a finding (a card number sent as a number) replaced by its mask
 * as a string, so the result still parses. Masking the raw text would turn `{"card":4111111111111111}`
 * into `{"card":[CARD]}`, which providers refuse and nobody can parse. Text that is not a JSON object
 * or array is masked as text.
 */
export function redactJsonText(
  text: string,
  key?: string,
  inside = 0,
  nested = { left: MAX_NESTED_DOCUMENTS },
): Redaction {
  // Checked without copying the string: every value of every log line passes here.
  if (!JSON_START.test(text)) return redactEntry(key, text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return redactEntry(key, text);
  }
  // Walking a document nested thousands deep would overflow the stack: it is masked as the text it is.
  if (nestsDeeperThan(parsed, MAX_DEPTH)) return redactEntry(key, text);
  const found = emptyCounts();
  let count = 0;
  // Digits a double cannot hold (a 19-digit card) are read only from the text as written.
  let inexact = false;
  // The walks below call `mask` for the same values in the same order (a number as written, read by
  // the last walk, aside), which lets the first walk's findings be looked up by position.
  // An object's own keys are masked too (`{"alice@example.com": 2}`), except by the first walk, which
  // only reads values; a key labels its value as it was written.
  const tally = (r: Redaction) => {
    for (const [kind, n] of Object.entries(r.found)) found[kind as keyof PiiCounts] += n;
    count += r.count;
  };
  const walkJson = (v: unknown, key: string | undefined, mask: Mask, keys = true): unknown => {
    if (typeof v === "string") return mask(v, key);
    if (typeof v === "number") {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) inexact = true;
      // Read without its sign: `-4155550132` under `mobile` is the number a careless export wrote.
      const text = String(Math.abs(v));
      const label = numberKey(key, v);
      if (label === undefined && text.length < CARD_DIGITS) return v;
      const masked = mask(text, label);
      return masked === text ? v : masked;
    }
    if (exactJson.isRawJSON(v)) {
      // The value, read as the first walk read it (14155550132.0 and 1.4155550132E10 are a phone
      // number), and failing that the text as written (digits past a double's 15–17).
      const value = Math.abs(Number(v.rawJSON));
      const text = String(value);
      const label = numberKey(key, value);
      const asValue = label === undefined && text.length < CARD_DIGITS ? text : mask(text, label);
      if (asValue !== text) return asValue;
      const written = v.rawJSON.replace(/^-/, "");
      if (written === text) return v;
      const asWritten = maskValue(written, label);
      return asWritten === written ? v : asWritten;
    }
    // A list under a key is labelled by it: `{"phones": ["…", "…"]}`.
    if (Array.isArray(v)) return v.map((x) => walkJson(x, key, mask, keys));
    if (v !== null && typeof v === "object") {
      const entries = Object.entries(v).map(
        ([k, x]) => [k, walkJson(x, childKey(key, k), mask, keys)] as const,
      );
      // Under a label the keys are read with it too: `{"phones": {"4155550132": "home"}}`.
      const labelled = key !== undefined && isLabelKey(key) ? (k: string) => redactEntry(key, k) : maskName;
      return Object.fromEntries(keys ? maskEntryKeys(entries, tally, labelled) : entries);
    }
    return v;
  };
  // First every text redactEntry would read, in order (each value, and after its label where it has
  // one), then which of them may hold a finding, from one scan of them all (mayHoldFindings). Only
  // those are scanned alone: a document of 400 000 values cost 400 000 scans of every detector. The
  // masking walk finds each value's answer by position; a short text is read once however often it
  // repeats (360 000 copies of one phone number would otherwise be 360 000 findings to check).
  const texts: string[] = [];
  const short = new Map<string, number>();
  const indexOf = (t: string): number => {
    let i = t.length <= 2 * SHORT ? short.get(t) : undefined;
    if (i === undefined) {
      i = texts.push(t) - 1;
      if (t.length <= 2 * SHORT) short.set(t, i);
    }
    return i;
  };
  const alone: number[] = [];
  const labelled: number[] = [];
  walkJson(
    parsed,
    key,
    (s, key) => {
      alone.push(indexOf(s));
      const words = key === undefined ? undefined : keyLabel(key);
      labelled.push(words === undefined ? -1 : indexOf(`${words}: ${s}`));
      return s;
    },
    false,
  );
  const flags = mayHoldFindings(texts);
  let call = 0;
  const mayHold = (): boolean => {
    const j = call++;
    return flags[alone[j]!] === 1 || (labelled[j]! >= 0 && flags[labelled[j]!] === 1);
  };
  // A document of many values repeats them (enums, flags, ids, a list of numbers under one label):
  // each short value is scanned once with each label it comes under (redactEntry reads the key only
  // as its label). Scoped to the document, so it is bounded by its size.
  // By label, then value: one map per label, so no value (which may hold a NUL) reads as another's.
  const seen = new Map<string, Map<string, Redaction>>();
  const maskValue = (s: string, key?: string): string => {
    let r: Redaction | undefined;
    if (s.length <= SHORT) {
      const label = keyLabel(key ?? "");
      let byValue = seen.get(label ?? "");
      if (byValue === undefined) {
        byValue = new Map();
        seen.set(label ?? "", byValue);
      }
      r = byValue.get(s);
      if (r === undefined) {
        r = label === undefined ? redactText(s) : redactEntry(key, s);
        byValue.set(s, r);
      }
    } else r = redactEntry(key, s);
    if (r.count === 0) return s;
    tally(r);
    return r.text;
  };
  // The masking walk's answer for each string that held JSON, by its position: the rebuilding walk
  // takes it rather than read that JSON (and the levels under it) again and spend the budget twice.
  const held = new Map<number, Redaction>();
  let rebuilding = false;
  const mask: Mask = (s, key) => {
    const at = call;
    const hold = mayHold();
    // JSON held in a string (a tool result that is an HTTP response whose body is JSON) is masked as
    // the JSON it is: its own escapes (`\u002B44 …`, `j\u00fcrgen@…`) hide its values from a scan of
    // its text. Bounded: each level is a string in the one above.
    let r = rebuilding ? held.get(at) : undefined;
    if (!rebuilding) {
      const tried = inside < MAX_STRING_NESTING && nested.left > 0 && JSON_DOCUMENT.test(s);
      if (tried) nested.left--;
      if (tried && parses(s)) {
        r = redactJsonText(s, key, inside + 1, nested);
        held.set(at, r);
      }
    }
    if (r === undefined) return hold ? maskValue(s, key) : s;
    if (r.count === 0) return s;
    tally(r);
    return r.text;
  };
  walkJson(parsed, key, mask);
  if (count === 0 && !inexact) return { text, found, count };
  // Found something (or could not read every number): masked again from a parse that keeps every
  // number as written, since the text is rebuilt (a double would turn 1790000000000000001 into …000,
  // 10.50 into 10.5, 1e400 into null).
  for (const kind of Object.keys(found)) found[kind as keyof PiiCounts] = 0;
  count = 0;
  call = 0;
  rebuilding = true;
  const masked = walkJson(exactJson.parse(text, keepNumberText), key, mask);
  return count === 0 ? { text, found, count } : { text: JSON.stringify(masked), found, count };
}

/**
 * Whether a string is JSON. One that only looks like it (`{x`) goes with the document's other values
 * to the one scan of them all: scanned alone, 400 000 of them would cost seconds.
 */
function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * A string that may be a JSON object or array from end to end: `[INFO] started` and other log lines
 * that open with a bracket are not tried (each failed parse costs microseconds and the budget a try).
 */
const JSON_DOCUMENT = /^\s*(?:\{[\s\S]*\}|\[[\s\S]*\])\s*$/;

/** How many levels of JSON held in a string value of JSON are read as JSON: deeper is read as text. */
const MAX_STRING_NESTING = 4;

/**
 * How many strings of a document are tried as JSON: a failed parse costs some microseconds, and a
 * document of 4 MiB could hold half a million strings that only look like JSON. Past it, read as text.
 */
const MAX_NESTED_DOCUMENTS = 1_000;

/**
 * How deep redactJsonText walks JSON held in a string: as deep as a request body may nest (validate.ts);
 * deeper is masked as text.
 */
export const MAX_DEPTH = 128;

/**
 * The label a value is read with: its own key when that is a label; under a label, a key made only of
 * words that say "the number" (`{"phones": [{"type": "home", "number": "…"}]}`, SCIM's `value`,
 * libphonenumber's `nationalNumber`) takes the label above. Any other key keeps its own: a build or a
 * timestamp under `mobile` is not a phone.
 */
export const childKey = (parent: string | undefined, key: string): string =>
  parent !== undefined && valueKey(key) && isLabelKey(parent) ? parent : key;

const VALUE_WORDS = new Set([
  "number",
  "numbers",
  "value",
  "digits",
  // `e164` splits as "e" and digits (keyWords).
  "e",
  "national",
  "international",
  "local",
  "raw",
  "full",
  "num",
  "no",
  "nr",
  "country",
  "code",
]);

const valueKey = (key: string): boolean => {
  const words = keyWords(key).filter((w) => !/^\d+$/.test(w));
  return words.length > 0 && words.every((w) => VALUE_WORDS.has(w));
};
