import { scan } from "./scan.ts";

/**
 * Which of `texts` may hold something redactText masks (1) and which it would leave as they are (0),
 * found with one scan of them all rather than one scan each: a JSON document of 400 000 short values cost 400 000 scans of every detector (about a
 * second), and an agent's history re-sends its tool results with every request.
 *
 * The texts are read joined by NUL, which every detector reads as it reads the start or the end of a
 * text: no pattern's class or lookaround that could meet it at a text's edge accepts it (NUL is not a
 * word character, a space, a letter, a digit or a punctuation mark any pattern names), and the
 * validators that read around a match (a `+` before a card, "version" before an address, a UUID around
 * an IBAN) find the same there. The one pattern that may run over it (a PEM key's body, `[^-]*`) then
 * crosses into the next text. So a text is reported 0 only when no accepted span lies in it and no
 * match of any pattern, kept or dropped, crosses one of its edges: a crossing match is what could
 * have hidden one of its matches (by claiming its text, or by moving its pattern's search past it).
 * Anything else is what it would be alone. test/core/pii/may-hold-findings.test.ts checks that against
 * redactText, text by text.
 */
export function mayHoldFindings(texts: ReadonlyArray<string>): Uint8Array {
  const starts = new Array<number>(texts.length);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    starts[i] = at;
    at += texts[i]!.length + 1;
  }
  const dirty = new Uint8Array(texts.length);
  // The text holding offset `o` of the joined string (a separator belongs to the text before it).
  const textAt = (o: number): number => {
    let lo = 0;
    let hi = texts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const mark = (start: number, end: number) => {
    const last = textAt(end - 1);
    for (let i = textAt(start); i <= last; i++) dirty[i] = 1;
  };
  const spans = scan(texts.join("\u0000"), false, (start, end) => {
    const i = textAt(start);
    // Ending past the text's last character: over its separator, into the next text.
    if (end > starts[i]! + texts[i]!.length) mark(start, end);
  });
  for (const span of spans) if (span.kind !== null) mark(span.start, span.end);
  return dirty;
}
