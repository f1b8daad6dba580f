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
 * A model name (`provider/model`) masked part by part: a detector that will not start after a `/` (a
 * phone number's) reads each part alone, so `oa/+14155550199` is `oa/[PHONE]`.
 */
export function maskModelName(name: string): string {
  if (!name.includes("/")) return maskName(name).text;
  return name
    .split("/")
    .map((part) => maskName(part).text)
    .join("/");
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
