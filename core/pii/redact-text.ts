import { DETECTORS } from "./detectors.ts";
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
      let start = group ? group[0] : m.index;
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
      else if (typeof verdict === "object") {
        start += verdict.skip;
        end = start + verdict.length;
        // The span may run past the match the overlap check read: a claimed stretch there wins.
        if (overlaps(taken, start, end)) {
          re.lastIndex = m.index + 1;
          continue;
        }
      }
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

/**
 * Findings glued together (`alice@example.com+14155550132`) can hide one another: a detector's
 * lookbehind reads the neighbour a mask then replaces. The masked text is scanned again, until nothing
 * more is found (up to 16 rounds: 16 secrets glued in a row), so redaction is idempotent. Only text with findings pays, and
 * a later round reads only the stretches around the previous round's masks (REACH characters each
 * side, widened to the next whitespace): a finding glued to a mask is within them, and a few glued
 * secrets at the end of 4 MiB of digits no longer cost four scans of the whole text.
 */
const MAX_PASSES = 16;
const REACH = 256;
/** How far a stretch is widened, at most, to end at whitespace rather than inside a word. */
const WIDEN = 4096;

/** Masks personal data and secrets in a string. Idempotent: masks are never detected again. */
export function redactText(text: string): Redaction {
  const found = emptyCounts();
  let count = 0;
  let current = text;
  // Where the last round's masks are in `current`; undefined: the whole text is read.
  let masks: Array<[number, number]> | undefined;
  for (let pass = 0; pass < MAX_PASSES && current !== ""; pass++) {
    const spans = masks === undefined ? scan(current, false) : scanAround(current, masks);
    const kept = spans.filter((s) => s.kind !== null).sort((a, b) => a.start - b.start);
    if (kept.length === 0) break;
    let out = "";
    let at = 0;
    masks = [];
    for (const span of kept) {
      const kind = span.kind!;
      out += current.slice(at, span.start);
      const mask = maskFor(kind);
      masks.push([out.length, out.length + mask.length]);
      out += mask;
      at = span.end;
      found[kind]++;
    }
    count += kept.length;
    current = out + current.slice(at);
  }
  return { text: current, found, count };
}

/** The spans found in the stretches around `masks` (merged where they meet), in `text`'s offsets. */
function scanAround(text: string, masks: ReadonlyArray<[number, number]>): Span[] {
  const spans: Span[] = [];
  let from = -1;
  let to = -1;
  const flush = () => {
    if (to <= from) return;
    for (const s of scan(text.slice(from, to), false))
      spans.push({ ...s, start: s.start + from, end: s.end + from });
  };
  for (const [start, end] of masks) {
    // Masks close together share a stretch; only one past the stretch so far widens it (again).
    if (from < 0 || start - REACH > to) {
      flush();
      from = widenLeft(text, Math.max(0, start - REACH));
      to = from;
    }
    if (end + REACH > to) to = widenRight(text, Math.min(text.length, end + REACH));
  }
  flush();
  return spans;
}

const isSpace = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  return c <= 32 || (c > 127 && /\s/.test(text[i]!));
};

function widenLeft(text: string, at: number): number {
  const limit = Math.max(0, at - WIDEN);
  let i = at;
  while (i > limit && !isSpace(text, i - 1)) i--;
  return i;
}

function widenRight(text: string, at: number): number {
  const limit = Math.min(text.length, at + WIDEN);
  let i = at;
  while (i < limit && !isSpace(text, i)) i++;
  return i;
}

/** Whether redactText would mask anything (stops at the first finding). */
export function containsPii(text: string): boolean {
  return text !== "" && scan(text, true).some((s) => s.kind !== null);
}
