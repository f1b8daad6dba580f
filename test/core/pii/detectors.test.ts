import { describe, expect, it } from "vitest";
import { cardIssuerOk, ibanOk, ipv4Ok, ipv6Ok, luhnOk, ssnOk } from "../../../core/pii/checks.ts";
import { maskFor, PII_KINDS, type PiiKind } from "../../../core/pii/kinds.ts";
import { containsPii, redactText } from "../../../core/pii/redact-text.ts";

/** Kinds found in a text, with their counts (zeros left out). */
const found = (text: string) =>
  Object.fromEntries(Object.entries(redactText(text).found).filter(([, n]) => n > 0)) as Partial<
    Record<PiiKind, number>
  >;

// Obviously fake values: documented samples and EXAMPLE-filled tokens.
const OPENAI = "sk-proj-EXAMPLEexample0EXAMPLEexample1EXAMPLEexample2";
const ANTHROPIC = "sk-ant-api03-EXAMPLE_example-EXAMPLE0000000000000000000000fakeAA";
const GEMINI = "AIzaSyD-EXAMPLE_example_EXAMPLE_0000000";
const GATEWAY = "sk-gw-EXAMPLEexample-EXAMPLE_example0000000000000";
const GITHUB = "ghp_EXAMPLEexampleEXAMPLEexample00000000";
const SLACK = "xoxb-000000000000-0000000000000-EXAMPLEexampleEXAMPLEexa";
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEAEXAMPLEEXAMPLEEXAMPLE",
  "Proc-Type: 4,ENCRYPTED",
  "DEK-Info: AES-128-CBC,EXAMPLE",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

interface Case {
  text: string;
  /** The expected redacted text. */
  want: string;
}

const positives: Record<PiiKind, Case[]> = {
  EMAIL: [
    { text: "Write to alice@example.com.", want: "Write to [EMAIL]." },
    { text: "<bob.smith+eu@mail.example.co.uk>", want: "<[EMAIL]>" },
    { text: "?email=carol%40example.org&x=1", want: "?email=[EMAIL]&x=1" },
    // A local part never starts right after an `@`: `example.com+alice` was read as the next address's.
    { text: "a@example.com+b@example.com+c@example.com", want: "[EMAIL][EMAIL][EMAIL]" },
    // The number joined to the next address is masked with it, as its plus-addressed local part.
    {
      text: "alice@example.com+14155550132+bob@example.org+carol@example.net",
      want: "[EMAIL][EMAIL][EMAIL]",
    },
  ],
  PHONE: [
    { text: "Call +1 (415) 555-0132 now", want: "Call [PHONE] now" },
    { text: "Office +44 (0)20 7946 0958.", want: "Office [PHONE]." },
    { text: "US (415) 555-0132, 415.555.0132, 1-800-555-0199", want: "US [PHONE], [PHONE], [PHONE]" },
    { text: "UK 020 7946 0958, FR 06 12 34 56 78", want: "UK [PHONE], FR [PHONE]" },
    { text: "compact +14155550132", want: "compact [PHONE]" },
    // 13 digits after a `+`: the card detector tries it first, and leaves it when it is no card.
    { text: "mobile +4915123456789 today", want: "mobile [PHONE] today" },
    { text: "Ring 07700900123 when you land", want: "Ring [PHONE] when you land" },
    { text: "call me at 555-0199, mobile: 0612345678", want: "call me at [PHONE], mobile: [PHONE]" },
  ],
  CARD: [
    { text: "card 4111 1111 1111 1111 exp 12/29", want: "card [CARD] exp 12/29" },
    { text: "amex 3782 822463 10005", want: "amex [CARD]" },
    { text: "mc 5555-5555-5555-4444.", want: "mc [CARD]." },
    { text: "4111 1111 1111 1111 1 of 2", want: "[CARD] 1 of 2" },
    // A number right before the card made the match start a group early, and hid the card.
    { text: "amount 2500 4111 1111 1111 1111", want: "amount 2500 [CARD]" },
    { text: "2024 4111 1111 1111 1111 exp 12/27", want: "2024 [CARD] exp 12/27" },
    // Joined by a hyphen, the card could not be started at: the detector never starts after a `-`.
    { text: "amount 2500-4111-1111-1111-1111", want: "amount 2500-[CARD]" },
    { text: "ref 2500-4111111111111111", want: "ref 2500-[CARD]" },
    { text: "ref 25-4111-1111-1111-1111", want: "ref 25-[CARD]" },
    { text: "ref 123-4111-1111-1111-1111", want: "ref 123-[CARD]" },
    { text: "ref 1-2500-4111-1111-1111-1111", want: "ref 1-2500-[CARD]" },
    { text: "amex 2500-3782-822463-10005", want: "amex 2500-[CARD]" },
    { text: "ref 12-4111111111111111.", want: "ref 12-[CARD]." },
    { text: "list:\n-4111 1111 1111 1111", want: "list:\n-[CARD]" },
    { text: "-4111111111111111 first", want: "-[CARD] first" },
    { text: "x +4111111111111111 y", want: "x +[CARD] y" },
    { text: "card:+4111 1111 1111 1111", want: "card:+[CARD]" },
    { text: "4111111111111111+5500000000000004+340000000000009", want: "[CARD]+[CARD]+[CARD]" },
    { text: "zzz4111 1111 1111 1111 4111 1111 1111 1111", want: "zzz4111 1111 1111 1111 [CARD]" },
  ],
  IBAN: [
    { text: "IBAN GB82 WEST 1234 5698 7654 32.", want: "IBAN [IBAN]." },
    { text: "iban=DE89370400440532013000", want: "iban=[IBAN]" },
    { text: "pay ES91 2100 0418 4502 0005 1332 CASH", want: "pay [IBAN] CASH" },
    { text: "lower gb82 west 1234 5698 7654 32", want: "lower [IBAN]" },
    {
      text: "id 01a216d0-1a69-7000-be73-dae4e56b523b pays GB82 WEST 1234 5698 7654 32",
      want: "id 01a216d0-1a69-7000-be73-dae4e56b523b pays [IBAN]",
    },
  ],
  SSN: [
    { text: "SSN 219-09-9999.", want: "SSN [SSN]." },
    { text: "ssn: 078 05 1120", want: "ssn: [SSN]" },
    { text: "social security number is 219099999", want: "social security number is [SSN]" },
  ],
  IPV4: [
    { text: "from 203.0.113.7:8080", want: "from [IP]:8080" },
    { text: "XFF: 198.51.100.23, 10.1.2.3", want: "XFF: [IP], [IP]" },
  ],
  IPV6: [
    { text: "client 2001:db8::1 connected", want: "client [IP] connected" },
    { text: "[2001:db8:85a3::8a2e:370:7334]:443", want: "[[IP]]:443" },
    { text: "2001:0db8:85a3:0000:0000:8a2e:0370:7334", want: "[IP]" },
    { text: "mapped ::ffff:192.0.2.128", want: "mapped [IP]" },
    { text: "fe80::1%eth0", want: "[IP]%eth0" },
  ],
  OPENAI_KEY: [
    { text: `OPENAI_API_KEY=${OPENAI}`, want: "OPENAI_API_KEY=[SECRET:OPENAI_KEY]" },
    { text: "Bearer sk-test1234567890abcdefghij", want: "Bearer [SECRET:OPENAI_KEY]" },
  ],
  ANTHROPIC_KEY: [{ text: `x-api-key: ${ANTHROPIC}`, want: "x-api-key: [SECRET:ANTHROPIC_KEY]" }],
  GEMINI_KEY: [{ text: `?key=${GEMINI}&alt=sse`, want: "?key=[SECRET:GEMINI_KEY]&alt=sse" }],
  AWS_ACCESS_KEY: [
    { text: "id AKIAIOSFODNN7EXAMPLE", want: "id [SECRET:AWS_ACCESS_KEY]" },
    { text: "sts ASIAEXAMPLE000000000 ok", want: "sts [SECRET:AWS_ACCESS_KEY] ok" },
  ],
  AWS_SECRET_KEY: [
    {
      text: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      want: "aws_secret_access_key = [SECRET:AWS_SECRET_KEY]",
    },
    {
      text: '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
      want: '{"SecretAccessKey": "[SECRET:AWS_SECRET_KEY]"}',
    },
  ],
  GITHUB_TOKEN: [
    { text: `token ${GITHUB}`, want: "token [SECRET:GITHUB_TOKEN]" },
    {
      text: `https://${GITHUB}@github.com/o/r.git`,
      want: "https://[SECRET:GITHUB_TOKEN]@github.com/o/r.git",
    },
  ],
  SLACK_TOKEN: [{ text: `SLACK_BOT_TOKEN=${SLACK}`, want: "SLACK_BOT_TOKEN=[SECRET:SLACK_TOKEN]" }],
  JWT: [{ text: `Bearer ${JWT}.`, want: "Bearer [SECRET:JWT]." }],
  PEM_PRIVATE_KEY: [
    { text: `key:\n${PEM}\nend`, want: "key:\n[SECRET:PEM_PRIVATE_KEY]\nend" },
    { text: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq (truncated", want: "[SECRET:PEM_PRIVATE_KEY]" },
  ],
  GATEWAY_KEY: [
    { text: `Authorization: Bearer ${GATEWAY}`, want: "Authorization: Bearer [SECRET:GATEWAY_KEY]" },
  ],
};

const negatives: Record<string, string[]> = {
  EMAIL: [
    "logo@2x.png",
    "logo@2x.dark.png",
    "jquery@3.6.0.min.js",
    "bootstrap@5.3.2.min.css",
    "vue@3.4.0.global.prod.js",
    "d3@7.min.js",
    "bootstrap@5.bundle.min.js",
    "pkg@v2.1.min.js",
    "icon@2.dark.png",
    "https://unpkg.com/react@18.2.0/umd/react.js",
    "npm i @types/node",
    "@alice said hi",
  ],
  PHONE: [
    "at 12:30:45",
    "version 1.2.3 and v10.0.19041",
    "order ORD-2024-000123",
    "Invoice #415-555-0132",
    "INV-415-555-0132",
    "2024-06-01T12:30:45+02:00",
    "on 01.02.2024 12:30",
    "ISBN 978-0-306-40615-7",
    "+1 for this",
    "Call stack depth 1048576 exceeded",
    "call #1234567 was escalated",
    "sms code 1234567 expired",
    "mobile 0123",
    // Numbers grouped with spaces, as SI and French style write them.
    "Revenue: 2 071 045 000 SEK",
    "World population: 8 045 311 447",
  ],
  // The last: after a hyphen that follows a letter, it is part of an id, as any id would be.
  CARD: [
    "4111 1111 1111 1112",
    "1234 5678 1234 5670",
    "epoch 1717245045123",
    "0000 0000 0000 0000",
    "id x-4111-1111-1111-1111",
  ],
  IBAN: [
    "GB82 WEST 1234 5698 7654 33",
    "XX82 WEST 1234 5698 7654 32",
    "model AB12 CDEF GHIJ KLMN",
    // A UUID whose tail `be73-dae4e56b523b` is shaped like a Belgian IBAN and passes its checksum.
    "01a216d0-1a69-7000-be73-dae4e56b523b",
    "request 01A216D0-1A69-7000-BE73-DAE4E56B523B failed",
  ],
  SSN: ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "ID 219099999"],
  IPV4: ["256.1.1.1", "10.0.19041.1288", "version 4.2.1.0", "192.168.01.1", "127.0.0.1", "0.0.0.0"],
  IPV6: [
    "12:30:45",
    "00:1A:2B:3C:4D:5E",
    "std::vector",
    "f :: Int",
    "::1",
    "1:2:3:4:5:6:7:8:9",
    // Slices, which compressed addresses of small decimal groups look like.
    "every other a[::2], a[1::2]",
    "df.iloc[::10]",
    "arr[::3, ::4] and x[::2, 1::3]",
    // Scope resolution whose names happen to be hex letters.
    "In C++, A::f() overrides B::f()",
    "Call DB::add($row) then fa::fb()",
    "use a::b;",
  ],
  SECRETS: [
    "sk-learn",
    "sk-my-long-project-name-for-docs-2024",
    "AKIA is a prefix",
    "MYAKIAIOSFODNN7EXAMPLEX",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "client_secret=0123456789abcdefABCDEF0123456789abcdefAB",
    "eyJ0eXAiOiJKV1QiLCJmb28iOiJiYXIifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYH\n-----END PUBLIC KEY-----",
    "ghp_short",
    "xoxb-",
  ],
};

describe("detectors, table-driven", () => {
  for (const [kind, cases] of Object.entries(positives)) {
    describe(kind, () => {
      it.each(cases)("masks $text", ({ text, want }) => {
        const r = redactText(text);
        expect(r.text).toBe(want);
        expect(r.found[kind as PiiKind]).toBeGreaterThan(0);
        expect(containsPii(text)).toBe(true);
      });
    });
  }

  for (const [group, texts] of Object.entries(negatives)) {
    it.each(texts)(`${group}: leaves %j alone`, (text) => {
      expect(redactText(text)).toMatchObject({ text, count: 0 });
      expect(containsPii(text)).toBe(false);
    });
  }

  it("has a positive case for every kind", () => {
    for (const kind of PII_KINDS) expect(positives[kind].length, kind).toBeGreaterThan(0);
  });
});

describe("masks", () => {
  it("keep the kind", () => {
    expect(maskFor("EMAIL")).toBe("[EMAIL]");
    expect(maskFor("IPV4")).toBe("[IP]");
    expect(maskFor("IPV6")).toBe("[IP]");
    expect(maskFor("OPENAI_KEY")).toBe("[SECRET:OPENAI_KEY]");
    expect(maskFor("PEM_PRIVATE_KEY")).toBe("[SECRET:PEM_PRIVATE_KEY]");
  });

  it("are never detected again (redaction is idempotent)", () => {
    for (const cases of Object.values(positives)) {
      for (const { text } of cases) {
        const once = redactText(text).text;
        expect(redactText(once)).toMatchObject({ text: once, count: 0 });
      }
    }
  });

  it("counts every span by kind", () => {
    const r = redactText("a@example.com, b@example.com, +44 20 7946 0958 and AKIAIOSFODNN7EXAMPLE");
    expect(found(r.text)).toEqual({});
    expect(r.count).toBe(4);
    expect(found("a@example.com, b@example.com, +44 20 7946 0958 and AKIAIOSFODNN7EXAMPLE")).toEqual({
      EMAIL: 2,
      PHONE: 1,
      AWS_ACCESS_KEY: 1,
    });
    expect(Object.keys(r.found).sort()).toEqual([...PII_KINDS].sort());
  });
});

describe("overlaps resolve to the most specific kind", () => {
  it("a key with phone-shaped digits is masked whole, never half as a phone", () => {
    const key = "sk-proj-EXAMPLE-415-555-0132-EXAMPLEexampleEX";
    expect(redactText(`key ${key}`).text).toBe("key [SECRET:OPENAI_KEY]");
  });

  it("an Anthropic key is not an OpenAI key, a gateway key is neither", () => {
    expect(found(`${ANTHROPIC} ${GATEWAY}`)).toEqual({ ANTHROPIC_KEY: 1, GATEWAY_KEY: 1 });
  });

  it("a private key holding an address or a card is one secret", () => {
    const text = "-----BEGIN PRIVATE KEY-----\nalice@example.com 4111111111111111\n-----END PRIVATE KEY-----";
    expect(redactText(text).text).toBe("[SECRET:PEM_PRIVATE_KEY]");
  });

  it("a token in a clone URL is not an e-mail address", () => {
    expect(found(`https://${GITHUB}@github.com/o/r`)).toEqual({ GITHUB_TOKEN: 1 });
  });

  it("an IBAN with a bad checksum does not fall back to a phone number inside it", () => {
    expect(found("DE89 3704 0044 0532 0130 01")).toEqual({});
  });

  it("a loose IBAN-like prefix of an unknown country claims nothing", () => {
    expect(redactText("ref AB12 4111 1111 1111 1111").text).toBe("ref AB12 [CARD]");
  });

  it("an IPv4 tail inside an IPv6 address is one address", () => {
    expect(redactText("::ffff:192.0.2.128").found).toMatchObject({ IPV6: 1, IPV4: 0 });
  });

  it("only the value next to an AWS secret label is masked", () => {
    expect(redactText("secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").text).toBe(
      "secret_access_key: [SECRET:AWS_SECRET_KEY]",
    );
    expect(found("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toEqual({});
  });
});

describe("e-mail addresses beside text", () => {
  it.each([
    ["Chinese, written without spaces", "请发邮件到alice@example.com确认", "请发邮件到[EMAIL]确认"],
    [
      "Japanese, a particle right after",
      "メールはtaro@example.jpまでお願いします",
      "メールは[EMAIL]までお願いします",
    ],
    ["Thai", "ติดต่อbob@example.comได้เลย", "ติดต่อ[EMAIL]ได้เลย"],
    ["accented Latin", "Kontakt: jürgen.müller@beispiel.example", "Kontakt: [EMAIL]"],
    ["an IDN domain", "Write to sales@münchen.de today", "Write to [EMAIL] today"],
    ["an apostrophe inside", "email=o'reilly@example.com", "email=[EMAIL]"],
    ["a typographic apostrophe inside", "mail d’angelo@example.com now", "mail [EMAIL] now"],
    ["Korean", "연락처 홍길동@example.com 입니다", "연락처 [EMAIL] 입니다"],
    ["Arabic", "راسلني على محمد@example.com", "راسلني على [EMAIL]"],
    ["Hindi before a Latin address", "हिंदी.kim@example.com पर लिखें", "हिंदी[EMAIL] पर लिखें"],
    ["Korean particles on both sides", "연락처는alice@example.com입니다", "연락처는[EMAIL]입니다"],
    ["a Korean particle after", "alice@example.com으로 보내주세요", "[EMAIL]으로 보내주세요"],
    ["Katakana with its long-vowel mark", "コンピューターalice@example.com", "コンピューター[EMAIL]"],
    ["a superscript after", "see alice@example.com¹ below", "see [EMAIL]¹ below"],
    ["an Arabic-Indic digit after", "a alice@example.com٣", "a [EMAIL]٣"],
    ["a joiner inside the domain", "user@exa\u200cmple.com", "[EMAIL]"],
    ["a circled number before", "①alice@example.com", "①[EMAIL]"],
    ["Arabic-Indic digits inside", "راسلني على محمد٩٩@example.com", "راسلني على [EMAIL]"],
    ["Devanagari digits inside", "राम१२३@example.com", "[EMAIL]"],
    ["full-width digits inside", "user１２３@example.com", "[EMAIL]"],
    ["a digit inside an IDN domain", "user@مثال١.com", "[EMAIL]"],
    ["quotes around it", "signed as 'bob@example.com' here", "signed as '[EMAIL]' here"],
    ["a dash after", "alice@example.com-2024", "[EMAIL]-2024"],
    ["an underscore after", "file: invoice_alice@example.com_2024.pdf", "file: [EMAIL]_2024.pdf"],
    ["a dash between two", "Write to alice@example.com-or bob@example.com", "Write to [EMAIL]-or [EMAIL]"],
    ["a file extension after", "Attached: jane.doe@example.com.pdf", "Attached: [EMAIL].pdf"],
    ["a text file's extension after", "see jane@example.org.txt", "see [EMAIL].txt"],
    ["two extensions after", "jane.doe@example.com.json.gz", "[EMAIL].json.gz"],
    ["an extension after a numeric domain", "zhang@163.com.pdf", "[EMAIL].pdf"],
    ["an escaped @ in prose", "mail jane.doe\\u0040example.com now", "mail [EMAIL] now"],
    ["a C-escaped @", "x jane\\x40example.org", "x [EMAIL]"],
  ])("masks the address alone in %s", (_, text, want) => {
    expect(redactText(text).text).toBe(want);
  });
});

describe("numbers grouped by no-break spaces, as web pages and word processors write them", () => {
  it.each([
    ["a French phone number (U+00A0)", "tél. 06\u00a012\u00a034\u00a056\u00a078", "tél. [PHONE]"],
    ["a phone number (U+202F)", "+33\u202f6\u202f12\u202f34\u202f56\u202f78", "[PHONE]"],
    ["a card", "card 4111\u00a01111\u00a01111\u00a01111", "card [CARD]"],
    ["an IBAN", "FR76\u00a03000\u00a06000\u00a00112\u00a03456\u00a07890\u00a0189", "[IBAN]"],
    ["a phone number (thin spaces)", "call +1\u2009415\u2009555\u20090132", "call [PHONE]"],
    ["a card (en spaces)", "card 4111\u20021111\u20021111\u20021111", "card [CARD]"],
  ])("masks %s", (_, text, want) => {
    expect(redactText(text).text).toBe(want);
  });

  it("keeps the no-break spaces around what it masks", () => {
    expect(redactText("call\u00a006 12 34 56 78\u00a0now").text).toBe("call\u00a0[PHONE]\u00a0now");
  });
});

describe("validators", () => {
  it.each([
    ["4111111111111111", true],
    ["4111111111111112", false],
    ["378282246310005", true],
    ["79927398713", true],
  ])("luhn %s → %s", (digits, ok) => expect(luhnOk(digits)).toBe(ok));

  it.each([
    ["4111111111111111", true],
    ["411111111111111", false],
    ["378282246310005", true],
    ["2223003122003222", true],
    ["1234567812345670", false],
    ["9999999999999995", false],
  ])("issuer %s → %s", (digits, ok) => expect(cardIssuerOk(digits)).toBe(ok));

  it.each([
    ["GB82WEST12345698765432", true],
    ["GB82WEST12345698765433", false],
    ["GB82WEST1234569876543", false],
    ["NO9386011117947", true],
    ["XX82WEST12345698765432", false],
  ])("iban %s → %s", (iban, ok) => expect(ibanOk(iban)).toBe(ok));

  it.each([
    [["219", "09", "9999"], true],
    [["000", "12", "3456"], false],
    [["666", "12", "3456"], false],
    [["901", "12", "3456"], false],
    [["123", "00", "4567"], false],
    [["123", "45", "0000"], false],
  ] as const)("ssn %j → %s", ([a, g, s], ok) => expect(ssnOk(a, g, s)).toBe(ok));

  it.each([
    ["192.168.1.1", true],
    ["255.255.255.255", true],
    ["256.1.1.1", false],
    ["01.2.3.4", false],
    ["1.2.3", false],
  ])("ipv4 %s → %s", (ip, ok) => expect(ipv4Ok(ip)).toBe(ok));

  it.each([
    ["2001:db8::1", true],
    ["::1", true],
    ["1:2:3:4:5:6:7:8", true],
    ["1:2:3:4:5:6:7", false],
    ["1::2::3", false],
    ["::ffff:192.0.2.1", true],
    ["::ffff:999.0.2.1", false],
    ["12:30:45", false],
    ["12345::1", false],
    ["::", false],
  ])("ipv6 %s → %s", (ip, ok) => expect(ipv6Ok(ip)).toBe(ok));
});

describe("performance", () => {
  const N = 100_000;
  const fill = (s: string) => s.repeat(Math.ceil(N / s.length)).slice(0, N);
  const time = (text: string) => {
    const start = performance.now();
    redactText(text);
    return performance.now() - start;
  };

  it("redacts a 100 KB prompt full of findings in well under 50 ms (asserted < 200 ms)", () => {
    const paragraph =
      "Hi, I'm Alice (alice@example.com, +44 20 7946 0958). Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 " +
      "7654 32. Deploy v1.2.3 at 2024-06-01T12:30:45Z from 10.0.0.1; commit 9fceb02d0ae598e95dc970b74767f19372d61af8; " +
      `order ORD-2024-000123; key ${OPENAI}. Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n`;
    const text = fill(paragraph);
    redactText(text); // warm-up: compile the patterns
    const ms = time(text);
    expect(ms).toBeLessThan(200);
    expect(redactText(text).found.EMAIL).toBeGreaterThan(200);
  });

  const pathological: Record<string, string> = {
    digits: fill("1"),
    "digits and spaces": fill("1 "),
    "digits and dashes": fill("1-"),
    "digits and dots": fill("1."),
    "digits and colons": fill("1:"),
    colons: fill(":"),
    "hex and colons": fill("a:"),
    "at signs": fill("a@"),
    "dotted local part": `${fill("a.")}@`,
    "encoded at signs": fill("%40"),
    "PEM headers without END": fill("-----BEGIN PRIVATE KEY-----"),
    "PEM header then one long line": `-----BEGIN PRIVATE KEY-----${fill("A")}`,
    "plus signs": fill("+1 "),
    parentheses: fill("(0"),
    "sk- then letters": `sk-${fill("a")}`,
    "sk- repeated": fill("sk-"),
    "eyJ then letters": `eyJ${fill("a")}`,
    "JWT-ish segments": fill("eyJa."),
    "JWT look-alikes whose header is no JSON": fill("eyJaa.eyJaa."),
    "IBAN-ish groups": fill("AA00 "),
    "zero groups": fill("0000 "),
    "AWS labels": fill("aws_secret_access_key="),
    "SSN labels": fill("SSN 123 "),
    "mixed separators": fill("12 34-56.78:90 "),
  };

  it.each([
    ["a gateway key", "sk-gw-"],
    ["an Anthropic key", "sk-ant-api03-"],
    ["an OpenAI key", "sk-proj-1"],
  ])("masks %s of 5 000 characters whole, and what is glued after it", (_what, prefix) => {
    const key = `${prefix}${"A".repeat(5_000)}`;
    const r = redactText(`${key}+bob@example.org`);
    // The address takes the `+` with it (plus addressing): nothing of the key or the address is left.
    expect(r.text).toMatch(/^\[SECRET:[A-Z_]+\]\+?\[EMAIL\]$/);
  });

  it.each(Object.entries(pathological))("never backtracks badly: %s", (_name, text) => {
    expect(time(text)).toBeLessThan(200);
  });
});
