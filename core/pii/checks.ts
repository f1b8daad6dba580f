/**
 * Validators the detectors run on a candidate match: checksums and range rules that a regular
 * expression cannot express. All pure and linear in the candidate's length.
 */

/** Luhn (mod 10) over a string of ASCII digits. */
export function luhnOk(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const inRange = (value: number, low: number, high: number) => value >= low && value <= high;

/**
 * Issuer identification number (IIN) prefix and length sanity: a Luhn-valid number must also start like
 * a card of some scheme and have a length that scheme issues.
 */
export function cardIssuerOk(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === "4") return n === 13 || n === 16 || n === 19; // Visa
  if (inRange(p2, 51, 55) || inRange(p4, 2221, 2720)) return n === 16; // Mastercard
  if (inRange(p4, 2200, 2204)) return n === 16; // Mir
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (inRange(p3, 300, 305) || p2 === 36 || p2 === 38 || p2 === 39) return inRange(n, 14, 19); // Diners
  if (inRange(p4, 3528, 3589)) return inRange(n, 16, 19); // JCB
  if (p4 === 6011 || p2 === 65 || inRange(p3, 644, 649) || p2 === 62) return inRange(n, 16, 19); // Discover, UnionPay
  if (p2 === 50 || inRange(p2, 56, 69)) return inRange(n, 12, 19); // Maestro
  return false;
}

/** IBAN length per country (ISO 13616 registry, the countries that issue IBANs today). */
// biome-ignore format: a table reads better packed
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 7064 mod 97-10 over an IBAN without spaces: known country, its length, remainder 1. */
export function ibanOk(compact: string): boolean {
  if (IBAN_LENGTHS[compact.slice(0, 2)] !== compact.length) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/**
 * The length of the IBAN at the start of `candidate` (spaces or dashes allowed between groups, any
 * case), or 0. The
 * candidate may run on into a following upper-case word ("… 1332 CASH"), so it is cut at the country's
 * length, which must fall on a group boundary.
 */
export function ibanPrefixLength(candidate: string): number {
  const expected = IBAN_LENGTHS[candidate.slice(0, 2).toUpperCase()];
  if (expected === undefined) return 0;
  let compact = "";
  let i = 0;
  for (; i < candidate.length && compact.length < expected; i++) {
    const ch = candidate[i]!;
    if (ch !== " " && ch !== "-") compact += ch.toUpperCase();
  }
  if (compact.length !== expected) return 0;
  if (i < candidate.length && candidate[i] !== " " && candidate[i] !== "-") return 0;
  return ibanOk(compact) ? i : 0;
}

/** US SSN area-group-serial: never 000, 666 or 9xx areas, 00 groups or 0000 serials. */
export function ssnOk(area: string, group: string, serial: string): boolean {
  return area !== "000" && area !== "666" && area[0] !== "9" && group !== "00" && serial !== "0000";
}

const OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** Dotted-quad IPv4: four decimal octets 0–255 without leading zeros. */
export function ipv4Ok(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

const HEXTET = /^[0-9A-Fa-f]{1,4}$/;

/**
 * RFC 4291 text forms: eight hextets, or fewer with exactly one `::`, optionally ending in a dotted IPv4
 * (counts as two hextets). The bare unspecified address `::` is not reported (too common as punctuation).
 */
export function ipv6Ok(text: string): boolean {
  let body = text;
  let extra = 0;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!ipv4Ok(tail)) return false;
    body = text.slice(0, lastColon + 1);
    extra = 2;
    if (!body.endsWith("::")) body = body.slice(0, -1);
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const all = halves.flatMap(groups);
  if (!all.every((g) => HEXTET.test(g))) return false;
  const count = all.length + extra;
  if (halves.length === 1) return count === 8;
  return count >= 1 && count <= 7;
}

/** The first segment of a compact JWS decodes to a JSON object with an `alg`. */
export function jwtHeaderOk(token: string): boolean {
  const header = Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8");
  // Most look-alikes end here: a failed JSON.parse throws, and a prompt of millions of `eyJ…` look-alikes
  // would spend seconds throwing (the event loop every tenant shares).
  if (!header.includes('"alg"') || !header.trimEnd().endsWith("}")) return false;
  try {
    const decoded: unknown = JSON.parse(header);
    return (
      typeof decoded === "object" &&
      decoded !== null &&
      typeof (decoded as { alg?: unknown }).alg === "string"
    );
  } catch {
    return false;
  }
}

/**
 * Digit counts by dialling form: international (`+CC…` or `00CC…`) 8–15 digits after the prefix (E.164
 * allows 15); national with a trunk 0 (UK, FR, DE, …) 9–12; the NANP shape is fixed by the pattern.
 */
export function phoneOk(text: string): boolean {
  const digits = text.replace(/\D/g, "");
  if (text.startsWith("+")) return digits.length >= 8 && digits.length <= 15;
  if (text.startsWith("00")) return digits.length - 2 >= 8 && digits.length - 2 <= 15;
  if (text.startsWith("0")) return digits.length >= 9 && digits.length <= 12;
  return true;
}

/** A canonical UUID: 8-4-4-4-12 hex digits, in either case. */
const UUID_SOURCE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const WHOLE_UUID = new RegExp(`^${UUID_SOURCE}$`, "i");
const ANY_UUID = new RegExp(UUID_SOURCE, "gi");

/** Whether `text` is exactly one UUID (a request id), which is an identifier, never personal data. */
export const isUuid = (text: string): boolean => text.length === 36 && WHOLE_UUID.test(text);

/**
 * Whether text[index] lies inside a UUID. A UUID's tail (`be73-dae4e56b523b`) has an IBAN's shape, and
 * about one in 97 passes the checksum; no IBAN starts in the middle of a UUID.
 */
export function insideUuid(text: string, index: number): boolean {
  // A UUID holding text[index] starts at most 35 characters before it and ends at most 36 after.
  const from = Math.max(0, index - 36);
  const window = text.slice(from, index + 36);
  ANY_UUID.lastIndex = 0;
  for (let m = ANY_UUID.exec(window); m !== null; m = ANY_UUID.exec(window)) {
    const start = from + m.index;
    if (start <= index && index < start + m[0].length) return true;
  }
  return false;
}

/**
 * Loopback and unspecified IPv6 addresses (`::1`, `::`, and their long forms) are left readable. So is a
 * compressed form of small decimal-looking groups only (`::2`, `1::3`, `::10`): in text that is a slice
 * (Python's `a[::2]`, NumPy's `x[1::3, ::4]`) far more often than an address, and an address that needs
 * masking has a hex letter or a four-digit group (`fe80::1`, `2001:db8::7334`).
 */
export const ipv6Public = (match: string): boolean =>
  ipv6Ok(match) &&
  !/^[0:]*1?$/.test(match) &&
  !(match.includes("::") && /^[\d:]*$/.test(match) && !/\d{4}/.test(match)) &&
  // Compressed, of letters alone: scope resolution in code (`A::f`, `DB::add`, `use a::b`), far likelier
  // than an address without a digit.
  !(match.includes("::") && !/\d/.test(match));
