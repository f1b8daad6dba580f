import { cardIssuerOk, luhnOk } from "./checks.ts";
import type { Verdict } from "./detectors.ts";

/**
 * Cards may run on into a following number ("4111 1111 1111 1111 1 of 2"): try the whole match, then
 * each shorter prefix that ends at a group separator and still has 13 digits.
 */
const cardPrefixLength = (match: string): number => {
  const ends = [match.length];
  for (let i = match.length - 1; i > 0; i--) if (match[i] === " " || match[i] === "-") ends.push(i);
  for (const end of ends) {
    const digits = match.slice(0, end).replace(/[ -]/g, "");
    if (digits.length < 13) break;
    if (luhnOk(digits) && cardIssuerOk(digits)) return end;
  }
  return 0;
};

/** A card number's shape: 13–19 digits, or 4-4-4-4(-3) and Amex's 4-6-5 groups, ending a word. */
const CARD_SHAPE = String.raw`(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\w)`;

/**
 * The detector's pattern (detectors.ts): a card never starts inside a longer word or number, nor after
 * a hyphen that follows a letter (`x-4111…`, an id); after any other hyphen it may (a number joined to
 * it, `12-4111111111111111`, or a list's dash), and after a `+` (`alice@example.com+4111…`), where a
 * number that is no card is left to the phone detector (cardVerdict).
 */
export const CARD_PATTERN = new RegExp(String.raw`(?<![\w.]|[A-Za-z_]-)${CARD_SHAPE}`, "g");

/**
 * The shape alone, anchored where a later group of a failed grouped match starts: there the group
 * separator before it (a space or a hyphen: `2500-4111-1111-1111-1111`) is the number's own.
 */
const CARD_AT = new RegExp(CARD_SHAPE, "y");

/**
 * A card, or a grouped number that fails its checks and claims its text, unless a card starts at one
 * of its later groups: a number written before a card ("amount 2500 4111 1111 1111 1111", or joined
 * by a hyphen, "2500-4111-1111-1111-1111") makes the match begin a group early, and claiming it would
 * hide the card. Then only the card is claimed.
 */
export const cardVerdict = (match: string, text: string, index: number): Verdict => {
  const length = cardPrefixLength(match);
  if (length > 0) return length;
  for (let i = 0; i < match.length; i++) {
    if (match[i] !== " " && match[i] !== "-") continue;
    CARD_AT.lastIndex = index + i + 1;
    const later = CARD_AT.exec(text);
    const length = later ? cardPrefixLength(later[0]) : 0;
    if (length > 0) return { skip: i + 1, length };
  }
  // After a `+` a number that is no card may be a phone number (`+4915123456789`): it claims nothing.
  return text[index - 1] === "+" ? "ignore" : 0;
};
