import { emptyCounts, maskFor, type PiiCounts } from "./kinds.ts";
import { type Span, scan } from "./scan.ts";

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
