import { CARD_PATTERN, cardVerdict } from "./card.ts";
import {
  IBAN_LENGTHS,
  ibanPrefixLength,
  insideUuid,
  ipv4Ok,
  ipv6Public,
  jwtHeaderOk,
  phoneOk,
  ssnOk,
} from "./checks.ts";
import { AT_SIGNS, EMAIL_PATTERN, emailOk } from "./email.ts";
import type { PiiKind } from "./kinds.ts";

/**
 * A detector: a precompiled global pattern for the shape, and an optional validator for what a pattern
 * cannot say (checksums, ranges, context). `validate` returns true to accept the whole match, the length
 * of an accepted prefix, false (or 0) to reject it, or "ignore" when the match is not even shaped like
 * this kind, or `{ skip, length }` to accept only the span that starts `skip` characters in (what comes
 * before it claims nothing). A rejected match still claims its span, so a less specific detector cannot
 * report part of it: an IBAN with a bad checksum is not a phone number. An ignored match claims nothing.
 * When the pattern has a named group `v` (and the `d` flag), only that group is masked: the label around
 * an AWS secret key stays readable.
 *
 * Patterns are written so that no input backtracks badly: every run-of-characters pattern opens with a
 * lookbehind that refuses to start inside a run of the same characters, repetitions are bounded (but
 * a key's own characters after its literal prefix, which run to the end of the token so that an
 * over-long key is masked whole, not its first 300 characters), and every repeated group starts with a
 * mandatory separator.
 */
export type Verdict = boolean | number | "ignore" | { skip: number; length: number };

export interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  /**
   * Literals of which every match holds one: a text holding none is not searched. The e-mail and IPv6
   * patterns cost the most per character (lookbehinds at every position), and most text has no `@`.
   */
  needs?: readonly string[];
  validate?: (match: string, text: string, index: number) => Verdict;
}

/** OpenAI keys mix cases and digits; a lower-case kebab slug such as `sk-my-long-project-name-2` does not. */
const openAiOk = (match: string): boolean => {
  const body = match.slice(3);
  return /\d/.test(body) && /[A-Za-z]/.test(body) && (/[A-Z]/.test(body) || !body.includes("-"));
};

const VERSION_CONTEXT = /\b(?:version|ver\.?|release|build|firmware|v)\s*$/i;

/**
 * A dotted quad right after "version", "release", "build", … is a version number. Loopback (127/8) and
 * the unspecified address identify no one and stay readable ("listening on 127.0.0.1:8787").
 */
/**
 * An IBAN of a known country, long enough for it, that fails its checksum claims its text; any other
 * match of the loose pattern ("AB12 4111 1111 1111 1111") is not an IBAN at all and claims nothing.
 */
const ibanVerdict = (match: string, text: string, index: number): Verdict => {
  const expected = IBAN_LENGTHS[match.slice(0, 2).toUpperCase()];
  if (expected === undefined || match.replace(/[ -]/g, "").length < expected) return "ignore";
  // A request id is not an IBAN, however well its tail checksums.
  if (insideUuid(text, index)) return "ignore";
  return ibanPrefixLength(match);
};

const ipv4InContext = (match: string, text: string, index: number): boolean =>
  ipv4Ok(match) &&
  !match.startsWith("127.") &&
  match !== "0.0.0.0" &&
  !VERSION_CONTEXT.test(text.slice(Math.max(0, index - 12), index));

const ssnMatchOk = (match: string): boolean => {
  const digits = match.replace(/\D/g, "");
  return ssnOk(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5));
};

// Phone forms. International: +CC or 00CC, then groups with separators, an optional trunk "(0)", or a
// compact +CCNNNN…; NANP: (NPA) NXX-XXXX with N in 2–9, optionally led by 1; national with a trunk 0
// (UK, FR, DE, IT, NL, …): 0 + area code, then groups with separators. Compact national numbers
// (0612345678) are not matched: order and account numbers look the same.
const GROUPS = String.raw`(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,8}(?:[ .-]\d{1,8}){0,5}|(?:[ .-]\d{1,8}){1,6})`;
const INTL = String.raw`\+[1-9]\d{0,2}(?:${GROUPS}|\d{5,14})|00[1-9]\d{0,2}${GROUPS}`;
const NANP = String.raw`(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}`;
const NATIONAL = String.raw`(?:0[1-9]\d{0,3}|\(0[1-9]\d{0,3}\))(?:[ ./-]\d{2,8}){1,4}`;

/**
 * The words of a JSON key or field name that label its value for the labelled detectors below (an AWS
 * secret key's, an SSN's, a phone number's). Whole words only (not `hotel`, `string`), and not the
 * looser prose words (`call`, `ring`, `cell`): as keys they name counters and buffers more often than
 * numbers to call.
 */
const KEY_LABEL_WORDS = new Set(["ssn", "social", "phone", "telephone", "tel", "mobile", "fax", "whatsapp"]);
/** Words after the label that do not change what a key names: `phone_number`, `phone_no`, `phone2`. */
const TRAILING_WORDS = /^(?:numbers?|no|nr|num|\d+)$/;

const labelWord = (w: string): boolean =>
  KEY_LABEL_WORDS.has(w) ||
  (w.endsWith("es") && KEY_LABEL_WORDS.has(w.slice(0, -2))) ||
  (w.endsWith("s") && KEY_LABEL_WORDS.has(w.slice(0, -1)));

/** A key's words: camelCase, digits and separators split (`WhatsAppNumber2`: whats app number 2). */
export const keyWords = (key: string): string[] =>
  key
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([a-z\d])([A-Z])/g, "$1 $2")
    .replace(/([A-Za-z])(\d)/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");

/**
 * What a key says its value is, as the words a detector reads before a value (`phone`, `aws secret
 * access key`), or undefined when it labels nothing. A phone or SSN word must end the key (before any
 * "number" or digits): `phoneNumbers`, `home_phone`, `ssn`, but not `phoneCalls` or `mobileApp`. A
 * `secret` anywhere labels (`client_secret`, `aws_secret_access_key`).
 */
export function keyLabel(key: string): string | undefined {
  if (key.length > 64) return undefined;
  let label = labels.get(key);
  if (label === undefined) {
    if (labels.size >= 4096) labels.clear();
    label = labelOf(key) ?? "";
    labels.set(key, label);
  }
  return label === "" ? undefined : label;
}

/** keyLabel's answers by key: a document or a log line repeats the same few names. */
const labels = new Map<string, string>();

function labelOf(key: string): string | undefined {
  const words = keyWords(key);
  if (words.includes("secret")) return words.join(" ");
  let end = words.length;
  while (end > 0 && TRAILING_WORDS.test(words[end - 1]!)) end--;
  if (end === 0) return undefined;
  const last = words[end - 1]!;
  // The looser words label only with a "number" after them: `cell_number`, `smsNo`.
  const numbered = words.slice(end).some((w) => !/^\d+$/.test(w));
  if (numbered && (last === "cell" || last === "sms")) return `${words.slice(0, end).join(" ")} number`;
  // "WhatsApp" splits in two at its capital; "social security" is two words.
  if (end > 1 && `${words[end - 2]}${last}` === "whatsapp") return "whatsapp";
  if (end > 1 && words[end - 2] === "social" && last === "security") return words.slice(0, end).join(" ");
  return labelWord(last) ? words.slice(0, end).join(" ") : undefined;
}

/** Whether a key names its value as something a labelled detector reads. */
export const isLabelKey = (key: string): boolean => keyLabel(key) !== undefined;

/**
 * In priority order: secrets first (most specific prefixes before generic ones), then personal data,
 * the loosest shape (phone) last. Where matches overlap, the earlier detector wins.
 */
export const DETECTORS: readonly Detector[] = [
  {
    kind: "PEM_PRIVATE_KEY",
    // The body stops at the next "-----"; without an END line everything up to there is masked.
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----[^-]*(?:-(?!----)[^-]*)*(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)?/g,
  },
  {
    kind: "JWT",
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_-])/g,
    validate: jwtHeaderOk,
  },
  {
    kind: "AWS_SECRET_KEY",
    // Only next to a label: a bare 40-character base64 string is as likely a hash or an id.
    pattern:
      /(?:aws[ _-]?secret(?:[ _-]?access)?(?:[ _-]?key)?|secret[ _-]?access[ _-]?key)(?:["']?\s{0,3}[:=]\s{0,3}["']?|\s{1,3}(?:is\s{1,3})?)(?<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
  },
  { kind: "ANTHROPIC_KEY", pattern: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: "GATEWAY_KEY", pattern: /(?<![A-Za-z0-9_-])sk-gw-[A-Za-z0-9_-]{16,}/g },
  {
    kind: "OPENAI_KEY",
    pattern: /(?<![A-Za-z0-9_-])sk-(?!ant-|gw-)[A-Za-z0-9_-]{20,}/g,
    validate: openAiOk,
  },
  { kind: "GEMINI_KEY", pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  { kind: "AWS_ACCESS_KEY", pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  {
    kind: "GITHUB_TOKEN",
    pattern:
      /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,251})(?![A-Za-z0-9_])/g,
  },
  {
    kind: "SLACK_TOKEN",
    pattern: /(?<![A-Za-z0-9_-])xox[baprs]-[A-Za-z0-9-]{10,}/g,
    validate: (m) => /\d/.test(m),
  },
  {
    kind: "EMAIL",
    // RFC 6531 addresses and IDN domains in any script written with spaces (see LOCAL_LATIN and TLD).
    pattern: EMAIL_PATTERN,
    needs: AT_SIGNS,
    validate: emailOk,
  },
  {
    kind: "IBAN",
    // Upper or lower case, groups of four separated by a space or a dash, or none.
    pattern:
      /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/g,
    validate: ibanVerdict,
  },
  {
    kind: "CARD",
    pattern: CARD_PATTERN,
    validate: cardVerdict,
  },
  { kind: "SSN", pattern: /(?<![\w-])\d{3}-\d{2}-\d{4}(?!\w|-\d)/g, validate: ssnMatchOk },
  {
    // Spaces or no separators only right after an SSN label: alone, nine digits are anything.
    kind: "SSN",
    pattern:
      /\b(?:SSNs?|social[ _-]?security(?:[ _-]?number|[ _-]?no\.?)?)(?:["']\s{0,3}[:#=]\s{0,3}["']|\s{0,3}[:#=]\s{0,3}|\s{1,3}(?:is\s{1,3})?)(?<v>\d{3} ?\d{2} ?\d{4})(?![\w-])/dgi,
    validate: ssnMatchOk,
  },
  {
    kind: "IPV6",
    pattern:
      /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)/g,
    needs: [":"],
    validate: ipv6Public,
  },
  { kind: "IPV4", pattern: /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g, validate: ipv4InContext },
  {
    kind: "PHONE",
    // A national number right after a digit and a space is the tail of a number grouped with spaces
    // (`2 071 045 000`, `8 045 311 447`), not a phone.
    pattern: new RegExp(
      String.raw`(?<![\w#/.+-])(?:${INTL}|${NANP}|(?<!\d[ .])${NATIONAL})(?![\w:]|[.-]\d)`,
      "g",
    ),
    validate: phoneOk,
  },
  {
    // Compact national numbers (07700900123) and 7-digit local ones (555-0199) only right after a phone
    // word: alone, they read as order and account numbers. Only the number is masked. A quoted label
    // (`"phone": "…"`) needs a quoted value: masking an unquoted JSON number in prose would break the JSON
    // (`"mobile": 1234567` is a count there; JSON values are read by their keys in redactJsonText).
    kind: "PHONE",
    pattern:
      /\b(?:(?:phone|tel(?:ephone)?|mobile|whatsapp|fax)(?:e?s)?|cell|call|ring|sms)\.?(?:\s{1,3}(?:me|us))?(?:\s{1,3}(?:at|on))?(?:[ _-]{0,3}(?:numbers?|no\.?))?(?:["']\s{0,3}[:=]\s{0,3}["']|\s{0,3}[:=]\s{0,3}|\s{1,3})(?<v>\d{7,15}|\d{3}[ .-]\d{4})(?![\w-]|[.,]\d)/dgi,
    validate: phoneOk,
  },
];
