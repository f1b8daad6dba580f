import { DETECTORS } from "./detectors.ts";
import type { PiiKind } from "./kinds.ts";

/** A span of the input a detector claimed; `kind` is null when its validator rejected the match. */
export interface Span {
  start: number;
  end: number;
  kind: PiiKind | null;
}

/**
 * Runs every detector once over the text, in priority order. A match that overlaps a span an earlier
 * detector claimed is dropped, so the most specific reading of any stretch of text wins. With
 * `firstOnly`, stops at the first accepted span (which no later detector can displace). `onMatch`
 * hears of every match of every pattern, kept or not (mayHoldFindings).
 */
export function scan(
  text: string,
  firstOnly: boolean,
  onMatch?: (start: number, end: number) => void,
): Span[] {
  // No-break and other spaces group digits as spaces do (French `06 12 34 56 78` as web pages write it):
  // read as spaces, each one code unit for one, so every span stays where it is in the text as given.
  if (NO_BREAK_SPACES.test(text)) text = text.replace(NO_BREAK_SPACES_ALL, " ");
  const spans: Span[] = [];
  let taken: Uint8Array | undefined;
  for (const detector of DETECTORS) {
    // A text without a literal every match holds cannot match: the pattern is not run over it.
    if (detector.needs !== undefined && !detector.needs.some((s) => text.includes(s))) continue;
    const re = detector.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0] === "") {
        re.lastIndex++;
        continue;
      }
      onMatch?.(m.index, m.index + m[0].length);
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

/**
 * Every space separator but the ASCII space (no-break, thin, figure, en, em, ideographic, …): each one
 * UTF-16 code unit, as the space it is read as.
 */
const NO_BREAK_SPACES = /[\p{Zs}--\x20]/v;
const NO_BREAK_SPACES_ALL = /[\p{Zs}--\x20]/gv;

function overlaps(taken: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (taken[i] === 1) return true;
  return false;
}
