/**
 * What the redactor recognises. Personal data kinds mask as `[KIND]` (both IP kinds as `[IP]`); secret
 * kinds mask as `[SECRET:KIND]`, so a reader of a log or an audit record still sees what was there.
 */
export const PERSONAL_KINDS = ["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IPV4", "IPV6"] as const;

export const SECRET_KINDS = [
  "OPENAI_KEY",
  "ANTHROPIC_KEY",
  "GEMINI_KEY",
  "AWS_ACCESS_KEY",
  "AWS_SECRET_KEY",
  "GITHUB_TOKEN",
  "SLACK_TOKEN",
  "JWT",
  "PEM_PRIVATE_KEY",
  "GATEWAY_KEY",
] as const;

export type PersonalKind = (typeof PERSONAL_KINDS)[number];
export type SecretKind = (typeof SECRET_KINDS)[number];
export type PiiKind = PersonalKind | SecretKind;

export const PII_KINDS: readonly PiiKind[] = [...PERSONAL_KINDS, ...SECRET_KINDS];

const SECRETS: ReadonlySet<string> = new Set(SECRET_KINDS);

export const isSecretKind = (kind: PiiKind): kind is SecretKind => SECRETS.has(kind);

/** `[EMAIL]`, `[PHONE]`, `[CARD]`, `[IBAN]`, `[SSN]`, `[IP]`, `[SECRET:OPENAI_KEY]`, … */
export function maskFor(kind: PiiKind): string {
  if (isSecretKind(kind)) return `[SECRET:${kind}]`;
  return kind === "IPV4" || kind === "IPV6" ? "[IP]" : `[${kind}]`;
}

/** A count per kind, every kind present (0 when nothing of that kind was found). */
export type PiiCounts = Record<PiiKind, number>;

export function emptyCounts(): PiiCounts {
  const counts = {} as PiiCounts;
  for (const kind of PII_KINDS) counts[kind] = 0;
  return counts;
}
