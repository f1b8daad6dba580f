import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PII_KINDS, type PiiKind } from "../../../core/pii/kinds.ts";
import { redactText } from "../../../core/pii/redact-text.ts";

/**
 * Precision and recall of the redactor over test/fixtures/pii-corpus.tsv (`label<TAB>text`; label is a
 * comma-separated list of the kinds the line holds, or NONE; `\n` in text is a newline).
 *
 * Scoring, per line and kind: an expected kind that is found is a true positive, an expected kind that is
 * not found a false negative, and a kind found that the line does not expect (every finding on a NONE
 * line) a false positive. Counts are of kinds per line, not of spans.
 *
 * Floors (also in the README, "PII redaction"): overall precision ≥ 0.95 and recall ≥ 0.95; per kind,
 * recall ≥ 0.90 for every kind (1.00 for every secret kind), and precision ≥ 0.90 for every kind.
 * Every hard negative line (NONE) must stay unmasked except for at most 3 % of them.
 */
const OVERALL_FLOOR = { precision: 0.95, recall: 0.95 };
const KIND_FLOOR = { precision: 0.9, recall: 0.9, secretRecall: 1 };
const NEGATIVE_LINES_CLEAN = 0.97;

interface Line {
  no: number;
  expected: Set<PiiKind>;
  text: string;
}

const KNOWN: ReadonlySet<string> = new Set(PII_KINDS);

function readCorpus(): Line[] {
  const source = readFileSync(new URL("../../fixtures/pii-corpus.tsv", import.meta.url), "utf8");
  const lines: Line[] = [];
  source.split("\n").forEach((raw, i) => {
    if (raw.trim() === "" || raw.startsWith("#")) return;
    const tab = raw.indexOf("\t");
    if (tab < 0) throw new Error(`pii-corpus.tsv:${i + 1}: no tab`);
    const label = raw.slice(0, tab);
    const expected = new Set<PiiKind>();
    if (label !== "NONE") {
      for (const kind of label.split(",")) {
        if (!KNOWN.has(kind)) throw new Error(`pii-corpus.tsv:${i + 1}: unknown kind ${kind}`);
        expected.add(kind as PiiKind);
      }
    }
    lines.push({ no: i + 1, expected, text: raw.slice(tab + 1).replaceAll("\\n", "\n") });
  });
  return lines;
}

interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);
const precision = (t: Tally) => ratio(t.tp, t.tp + t.fp);
const recall = (t: Tally) => ratio(t.tp, t.tp + t.fn);

const corpus = readCorpus();
const perKind = new Map<PiiKind, Tally>(PII_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
const overall: Tally = { tp: 0, fp: 0, fn: 0 };
const mistakes: string[] = [];
let negatives = 0;
let cleanNegatives = 0;

for (const line of corpus) {
  const { found, text } = redactText(line.text);
  const detected = new Set(PII_KINDS.filter((k) => found[k] > 0));
  if (line.expected.size === 0) {
    negatives++;
    if (detected.size === 0) cleanNegatives++;
  }
  for (const kind of PII_KINDS) {
    const t = perKind.get(kind)!;
    const want = line.expected.has(kind);
    const got = detected.has(kind);
    if (want && got) t.tp++;
    else if (want) t.fn++;
    else if (got) t.fp++;
    if (want !== got) mistakes.push(`  line ${line.no} ${want ? "missed" : "false"} ${kind}: ${text}`);
  }
}
for (const t of perKind.values()) {
  overall.tp += t.tp;
  overall.fp += t.fp;
  overall.fn += t.fn;
}

function table(): string {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const row = (name: string, t: Tally) =>
    `${name.padEnd(16)}${pad(t.tp + t.fn, 9)}${pad(t.tp, 5)}${pad(t.fp, 5)}${pad(t.fn, 5)}${pad(precision(t).toFixed(3), 11)}${pad(recall(t).toFixed(3), 8)}`;
  return [
    `PII corpus: ${corpus.length} lines, ${negatives} hard negatives (${cleanNegatives} left unmasked)`,
    `${"kind".padEnd(16)}${pad("expected", 9)}${pad("TP", 5)}${pad("FP", 5)}${pad("FN", 5)}${pad("precision", 11)}${pad("recall", 8)}`,
    ...PII_KINDS.map((k) => row(k, perKind.get(k)!)),
    row("OVERALL", overall),
    ...(mistakes.length > 0 ? ["mistakes:", ...mistakes] : []),
  ].join("\n");
}

describe("PII corpus", () => {
  it("is big enough and has enough hard negatives", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(negatives).toBeGreaterThanOrEqual(120);
    for (const kind of PII_KINDS)
      expect(perKind.get(kind)!.tp + perKind.get(kind)!.fn, kind).toBeGreaterThan(0);
  });

  it("meets the precision and recall floors", () => {
    console.log(table());
    expect(precision(overall)).toBeGreaterThanOrEqual(OVERALL_FLOOR.precision);
    expect(recall(overall)).toBeGreaterThanOrEqual(OVERALL_FLOOR.recall);
    for (const [kind, t] of perKind) {
      expect(precision(t), `${kind} precision`).toBeGreaterThanOrEqual(KIND_FLOOR.precision);
      const floor =
        kind.endsWith("_KEY") || kind.endsWith("_TOKEN") || kind === "JWT" ? 1 : KIND_FLOOR.recall;
      expect(recall(t), `${kind} recall`).toBeGreaterThanOrEqual(floor);
    }
    expect(cleanNegatives / negatives).toBeGreaterThanOrEqual(NEGATIVE_LINES_CLEAN);
  });
});
