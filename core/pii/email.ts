import type { Verdict } from "./detectors.ts";

// The e-mail detector's shape (detectors.ts): what an address is made of in any script, and what is a
// file name that only looks like one.

/** Image and code file extensions: `logo@2x.png` or `pkg@1.0.0/index.js` are not addresses. */
const FILE_EXTENSIONS = new Set(
  "png jpg jpeg gif svg webp ico bmp tif tiff avif heic heif css js mjs cjs ts tsx jsx json map txt log yml yaml lock md html htm xml pdf zip gz tar tgz csv bak".split(
    " ",
  ),
);

/**
 * The `@` of an address, as written or escaped: URL-encoded, or as a JSON or C-family string escapes it
 * in text that is not read as that string (`jane.doe\u0040example.com` in prose or in a log).
 */
export const AT_SIGNS: readonly string[] = ["@", "%40", "\\u0040", "\\x40"];

/**
 * Words of a build's file name (`d3@7.min.js`, `bootstrap@5.bundle.min.js`, `icon@2.dark.png`) that no
 * top-level domain is, so a name whose last label before its extensions is one names a file.
 */
const FILE_WORDS = new Set("min bundle slim esm umd cjs dark light debug modern legacy browser".split(" "));

/**
 * A file named by a version or a pixel density, not an address: two numeric labels in a row
 * (`jquery@3.6.0.min.js`), a density (`logo@2x.dark.png`), or a build's word where the domain would
 * end (`d3@7.min.js`). One numeric label is a domain's (`zhang@163.com.pdf`: 163.com is a mail
 * provider). `labels` are those left once the extensions are off.
 */
const namesAFile = (labels: string[]): boolean =>
  FILE_WORDS.has(labels.at(-1)?.toLowerCase() ?? "") ||
  labels.some(
    (label, i) => /^\d+x$/i.test(label) || (/^\d+$/.test(label) && /^\d+$/.test(labels[i + 1] ?? "")),
  );

/** Where an address's domain starts: after its last `@`, as that is written (AT_SIGNS). */
function domainStart(match: string): number {
  let start = 0;
  for (const sign of AT_SIGNS) {
    const i = match.lastIndexOf(sign);
    if (i >= 0) start = Math.max(start, i + sign.length);
  }
  return start;
}

/**
 * An address whose last label is a file extension is a file name: `jane@example.com.pdf` is the address
 * jane@example.com with `.pdf` after it (accepted as that prefix), while `logo@2x.png`, with no domain
 * left before the extension, is no address at all.
 */
export const emailOk = (match: string): Verdict => {
  const labels = match.slice(domainStart(match)).split(".");
  if (!FILE_EXTENSIONS.has(labels.at(-1)!.toLowerCase())) return true;
  // Extensions off the end, as many as there are (`.json.gz`): what is left must still be a domain.
  let end = match.length;
  while (labels.length > 0 && FILE_EXTENSIONS.has(labels.at(-1)!.toLowerCase()))
    end -= labels.pop()!.length + 1;
  if (namesAFile(labels)) return false;
  return labels.length >= 2 && /^\p{L}{2,24}$/u.test(labels.at(-1)!) ? end : false;
};

/**
 * E-mail address parts, as `v`-mode class contents. An address is read in one script at a time: Latin
 * (with accents: jürgen.müller@…) or another spaced script (홍길동@…, محمد@…), never both in one part,
 * because text in another script often runs right up to an address without a space (Korean particles:
 * 연락처는alice@example.com입니다; Chinese, Japanese, Thai: 请发邮件到alice@example.com确认). The unspaced
 * scripts never belong to an address. Joiners (ZWNJ, ZWJ) and ASCII digits go with either.
 */
const UNSPACED = String.raw`\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Bopomofo}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}`;
// Digits of any script inside an address (محمد٩٩@…, user１２３@…); an address ends only before ASCII ones
// (TLD): a superscript, an Arabic-Indic or a full-width digit right after it is not part of it.
const JOINERS_DIGITS = String.raw`\p{Nd}\u200C\u200D`;
const END_JOINERS_DIGITS = String.raw`0-9\u200C\u200D`;
// Latin's own accents are combining marks of the Inherited script; other scripts' marks are their own.
const LATIN = String.raw`\p{sc=Latin}\p{sc=Inherited}${JOINERS_DIGITS}`;
const OTHER_LETTERS = String.raw`[\p{L}\p{M}]--[\p{sc=Latin}${UNSPACED}]`;
const OTHER = `[${OTHER_LETTERS}]${JOINERS_DIGITS}`;
const APOSTROPHE = "['’ʼ]";

/**
 * A Latin local part, with an apostrophe inside (o'reilly@…, also the typographic ’ and ʼ word processors
 * put there), never opening it. It may start right after a dot that follows another script
 * (हिंदी.kim@…): the address is the Latin part.
 */
const LOCAL_LATIN = String.raw`(?<![${LATIN}_%+\-@])(?<![${LATIN}]\.)(?<![${LATIN}]${APOSTROPHE})(?!${APOSTROPHE})(?:[${LATIN}._%+\-]|${APOSTROPHE}(?=[${LATIN}])){1,64}`;
const LOCAL_OTHER = String.raw`(?<![${OTHER}._%+\-@])[${OTHER}._%+\-]{1,64}`;
const DOMAIN_LABEL = String.raw`[[\p{L}\p{M}${JOINERS_DIGITS}\-]--[${UNSPACED}]]{1,63}\.`;
/**
 * A top-level domain ends where its script does: alice@example.com으로 is alice@example.com. A dash or an
 * underscore after it ends it too (alice@example.com-2024, invoice_alice@example.com_2024.pdf): no TLD
 * holds one, and a longer domain that does (example.com-shop.org) is matched first, labels being greedy.
 */
const TLD = String.raw`(?:[\p{sc=Latin}\p{sc=Inherited}]{2,24}(?![\p{sc=Latin}\p{sc=Inherited}${END_JOINERS_DIGITS}])|[${OTHER_LETTERS}]{2,24}(?![[${OTHER_LETTERS}]${END_JOINERS_DIGITS}]))`;

/** An address: a local part in one script, an `@` as written or escaped, a domain and its TLD. */
export const EMAIL_PATTERN = new RegExp(
  `(?:${LOCAL_LATIN}|${LOCAL_OTHER})(?:@|%40|\\\\u0040|\\\\x40)(?:${DOMAIN_LABEL}){1,8}${TLD}`,
  "gv",
);
