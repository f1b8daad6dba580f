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
 * more is found (a few rounds at most), so redaction is idempotent. Only text with findings pays.
 */
const MAX_PASSES = 4;

/** Masks personal data and secrets in a string. Idempotent: masks are never detected again. */
export function redactText(text: string): Redaction {
  const found = emptyCounts();
  let count = 0;
  let current = text;
  for (let pass = 0; pass < MAX_PASSES && current !== ""; pass++) {
    const spans = scan(current, false).filter((s) => s.kind !== null);
    if (spans.length === 0) break;
    spans.sort((a, b) => a.start - b.start);
    let out = "";
    let at = 0;
    for (const span of spans) {
      const kind = span.kind!;
      out += current.slice(at, span.start) + maskFor(kind);
      at = span.end;
      found[kind]++;
    }
    count += spans.length;
    current = out + current.slice(at);
  }
  return { text: current, found, count };
}

/** Whether redactText would mask anything (stops at the first finding). */
export function containsPii(text: string): boolean {
  return text !== "" && scan(text, true).some((s) => s.kind !== null);
}
