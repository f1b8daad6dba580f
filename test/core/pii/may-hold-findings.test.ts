import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mayHoldFindings } from "../../../core/pii/may-hold-findings.ts";
import { redactText } from "../../../core/pii/redact-text.ts";
import { seeded } from "../../fixtures/seeded.ts";

/** The PII corpus's texts (test/fixtures/pii-corpus.tsv), findings and hard negatives alike. */
const corpus = readFileSync(new URL("../../fixtures/pii-corpus.tsv", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.includes("\t") && !l.startsWith("#"))
  .map((l) => l.slice(l.indexOf("\t") + 1).replaceAll("\\n", "\n"));

/** What a text's edge may meet: the characters patterns look at beside a match, and a PEM key's parts. */
const EDGES = [
  "",
  " ",
  "-",
  ".",
  ":",
  "+",
  "@",
  "%40",
  "\n",
  "\u0000",
  "_",
  "x",
  "7",
  "é",
  "연락처는",
  "phone: ",
  "ssn ",
  "version ",
  "aws secret access key is ",
  "-----BEGIN PRIVATE KEY-----",
  "-----END PRIVATE KEY-----",
  "+1",
  "4111",
  "::",
  "127.0.0.",
  "123e4567-e89b-12d3-a456-",
];

/** A text made of cut pieces of the corpus and edge fragments, so matches start and end at its edges. */
function textFrom(random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let text = "";
  const pieces = Math.floor(random() * 4);
  for (let i = 0; i < pieces; i++) {
    if (random() < 0.5) text += pick(EDGES);
    else {
      const line = pick(corpus);
      const a = Math.floor(random() * line.length);
      const b = a + Math.floor(random() * (line.length - a + 1));
      text += random() < 0.3 ? line : line.slice(a, b);
    }
  }
  return text;
}

describe("mayHoldFindings", () => {
  it("reports 0 only for texts redactText leaves as they are, read together in seeded batches", () => {
    const random = seeded(20261127);
    let clean = 0;
    let withFindings = 0;
    for (let batch = 0; batch < 1_500; batch++) {
      const texts = [
        ...new Set(Array.from({ length: 1 + Math.floor(random() * 30) }, () => textFrom(random))),
      ];
      const flags = mayHoldFindings(texts);
      for (const [i, text] of texts.entries()) {
        const alone = redactText(text).count;
        if (flags[i] === 0) {
          clean++;
          expect({ text, alone }).toEqual({ text, alone: 0 });
        } else if (alone > 0) withFindings++;
      }
    }
    // Both kinds of text were there to tell apart.
    expect(clean).toBeGreaterThan(8_000);
    expect(withFindings).toBeGreaterThan(2_500);
  });

  it.each([
    ["a PEM key's body running into the next text", ["-----BEGIN PRIVATE KEY-----abc", "alice@example.com"]],
    ["a label ending one text and a number starting the next", ["call me on", "07700900123"]],
    ["a card split across two texts", ["4111 1111", "1111 1111"]],
    ["a text holding NUL itself", ["a\u0000b", "alice@example.com\u0000"]],
    ["a version word ending the text before an address", ["release", "10.1.2.3"]],
    ["a plus sign ending the text before a number", ["+", "4111111111111110"]],
    ["a hyphen after a letter before a card", ["id x-", "4111111111111111"]],
  ])("keeps every text with a finding out when %s", (_what, texts) => {
    const flags = mayHoldFindings(texts);
    for (const [i, text] of texts.entries()) if (redactText(text).count > 0) expect(flags[i]).toBe(1);
  });

  it("reads 400 000 distinct short values in one scan, not one each", () => {
    const texts = Array.from({ length: 400_000 }, (_, i) => `v${((i * 2_654_435_761) % 1e9).toString(36)}`);
    expect(mayHoldFindings(texts).every((flag) => flag === 0)).toBe(true);
  });
});
