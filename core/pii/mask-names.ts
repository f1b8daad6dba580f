import { type Redaction, redactText } from "./redact-text.ts";

/** Keys read lately and their masks: a process reads the same few field names over and over. */
const masks = new Map<string, Redaction>();
const MAX_KEYS = 4096;
/** Longer keys are not kept: they are rare, and each would hold its text in memory. */
const MAX_KEPT = 256;

/**
 * A short name masked as text: a JSON object's or a Map's key, a model's name. An address or a secret is
 * no less one as a key or as the model a caller asked for.
 */
export function maskName(key: string): Redaction {
  let r = masks.get(key);
  if (r === undefined) {
    r = redactText(key);
    if (key.length <= MAX_KEPT) {
      if (masks.size >= MAX_KEYS) masks.clear();
      masks.set(key, r);
    }
  }
  return r;
}

/**
 * A model name (`provider/model`) masked whole, which finds what spans a `/` (an AWS secret key, a phone
 * number written `030/12345678`), then part by part: a detector that will not start after a `/` (a
 * phone number's) reads each part alone, so `oa/+14155550199` is `oa/[PHONE]`.
 */
export function maskModelName(name: string): string {
  const whole = maskName(name).text;
  if (!whole.includes("/")) return whole;
  return whole
    .split("/")
    .map((part) => maskName(part).text)
    .join("/");
}

/**
 * Names that must stay distinct and match wherever they recur (schema properties, tool call ids), each
 * to its mask, numbered where another name, kept or masked, already is that (`[EMAIL]`, `[EMAIL] 2`).
 * Only names that mask to something else are in the map.
 */
export function distinctMasks(names: Iterable<string>, mask: (name: string) => string): Map<string, string> {
  const all = [...new Set(names)];
  const used = new Set(all);
  const out = new Map<string, string>();
  for (const name of all) {
    const masked = mask(name);
    if (masked === name) continue;
    let unique = masked;
    for (let n = 2; used.has(unique); n++) unique = `${masked} ${n}`;
    used.add(unique);
    out.set(name, unique);
  }
  return out;
}

/**
 * Entries with their keys masked, in order. Keys that mask alike (two addresses) or like a key already
 * there are told apart by a number (`[EMAIL]`, `[EMAIL] 2`), so no entry is lost; `onMasked` hears of
 * each key that changed.
 */
export function maskEntryKeys<T>(
  entries: ReadonlyArray<readonly [string, T]>,
  onMasked: (r: Redaction) => void,
  maskKey: (key: string) => Redaction = maskName,
): Array<[string, T]> {
  let used: Set<string> | undefined;
  const out: Array<[string, T]> = [];
  for (const [key, value] of entries) {
    const r = maskKey(key);
    if (r.count === 0) {
      out.push([key, value]);
      continue;
    }
    onMasked(r);
    used ??= new Set(entries.map(([k]) => k));
    let name = r.text;
    for (let n = 2; used.has(name); n++) name = `${r.text} ${n}`;
    used.add(name);
    out.push([name, value]);
  }
  return out;
}
