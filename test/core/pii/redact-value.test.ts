import { describe, expect, it } from "vitest";
import { canonical } from "../../../core/audit/canonical.ts";
import { redactJsonText } from "../../../core/pii/redact.ts";
import { redactText } from "../../../core/pii/redact-text.ts";
import { redactValue } from "../../../core/pii/redact-value.ts";

const KEY = "sk-proj-EXAMPLEexample0EXAMPLEexample1EXAMPLEexample2";

describe("redactValue", () => {
  it("makes strings and keys well-formed, so an audit record with a lone surrogate can be canonicalized", () => {
    const out = redactValue({ name: "x\ud800y", "k\udc00": ["\ud83d"] }) as Record<string, unknown>;
    expect(out).toEqual({ name: "x\ufffdy", "k\ufffd": ["\ufffd"] });
    expect(() => canonical(out)).not.toThrow();
  });

  it("redacts strings and keys deep inside objects and arrays, keeping other values", () => {
    const input = {
      "alice@example.com": "owner",
      user: { email: "alice@example.com", age: 42, active: true, note: null },
      messages: [{ role: "user", content: `my key is ${KEY}` }, "call +44 20 7946 0958", 7],
    };
    expect(redactValue(input)).toEqual({
      "[EMAIL]": "owner",
      user: { email: "[EMAIL]", age: 42, active: true, note: null },
      messages: [{ role: "user", content: "my key is [SECRET:OPENAI_KEY]" }, "call [PHONE]", 7],
    });
  });

  it("keeps a member named __proto__ as a member, as the request that was sent had it", () => {
    const sent = JSON.parse('{"properties":{"__proto__":{"type":"string"},"a":{"type":"number"}}}');
    const out = redactValue(sent) as { properties: object };
    expect(Object.keys(out.properties)).toEqual(["__proto__", "a"]);
    expect(JSON.stringify(out)).toBe(JSON.stringify(sent));
    expect(Object.getPrototypeOf(out.properties)).toBe(Object.prototype);
  });

  it("never mutates its input", () => {
    const input = { a: ["bob@example.com"], b: { c: "4111 1111 1111 1111" } };
    const before = structuredClone(input);
    const out = redactValue(input);
    expect(input).toEqual(before);
    expect(out).not.toBe(input);
  });

  it("passes primitives through and redacts a bare string", () => {
    expect(redactValue(5)).toBe(5);
    expect(redactValue(null)).toBe(null);
    expect(redactValue(undefined)).toBe(undefined);
    expect(redactValue(10n)).toBe(10n);
    expect(redactValue("ssn 219-09-9999")).toBe("ssn [SSN]");
  });

  it("is safe on cycles and reproduces them in the copy", () => {
    const input: Record<string, unknown> = { email: "carol@example.com" };
    input.self = input;
    input.list = [input];
    const out = redactValue(input) as Record<string, unknown>;
    expect(out.email).toBe("[EMAIL]");
    expect(out.self).toBe(out);
    expect((out.list as unknown[])[0]).toBe(out);
    expect(input.email).toBe("carol@example.com");
  });

  it("keeps shared references shared", () => {
    const shared = { ip: "203.0.113.9" };
    const out = redactValue({ a: shared, b: shared }) as { a: unknown; b: unknown };
    expect(out.a).toEqual({ ip: "[IP]" });
    expect(out.a).toBe(out.b);
  });

  it("handles Maps, Sets, Errors, Dates and class instances without letting a string through", () => {
    class Box {
      secret = `token ${KEY}`;
    }
    const when = new Date(0);
    const out = redactValue({
      map: new Map([["k", "dave@example.com"]]),
      set: new Set(["erin@example.com"]),
      error: new Error("failed for frank@example.com"),
      when,
      box: new Box(),
    }) as Record<string, unknown>;
    expect(out.map).toEqual(new Map([["k", "[EMAIL]"]]));
    expect(out.set).toEqual(new Set(["[EMAIL]"]));
    expect(out.error).toMatchObject({ name: "Error", message: "failed for [EMAIL]" });
    expect(out.when).toBe(when);
    expect(out.box).toEqual({ secret: "token [SECRET:OPENAI_KEY]" });
    expect(JSON.stringify(out)).not.toContain("example.com");
  });

  it("keeps null-prototype objects null-prototype", () => {
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { e: "gina@example.com" });
    const out = redactValue(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(null);
    expect(out.e).toBe("[EMAIL]");
  });
});

describe("redactJsonText, for JSON held in a string of JSON (an HTTP response's body in a tool result)", () => {
  const inBody = (inner: string) => JSON.stringify({ statusCode: 200, body: inner });
  it.each([
    ["a `+` escaped as .NET writes it", '{"contact":"\\u002B44 20 7946 0958"}', '{"contact":"[PHONE]"}'],
    [
      "letters escaped as Python writes them",
      '{"user":"j\\u00fcrgen@m\\u00fcnchen.de"}',
      '{"user":"[EMAIL]"}',
    ],
    ["an escaped `@`", '{"email":"jane.doe\\u0040example.com"}', '{"email":"[EMAIL]"}'],
    [
      "a level deeper",
      JSON.stringify({ inner: '{"to":"\\u002B44 20 7946 0958"}' }),
      JSON.stringify({ inner: '{"to":"[PHONE]"}' }),
    ],
  ])("masks a value behind %s", (_what, inner, want) => {
    const r = redactJsonText(inBody(inner));
    expect(JSON.parse(r.text)).toEqual({ statusCode: 200, body: want });
    expect(r.count).toBe(1);
  });

  it("reads hundreds of such strings, masking one in the last of them (both walks of the document)", () => {
    // Each message is JSON text; the last one's address is written with an escaped `@`.
    const events = Array.from({ length: 600 }, (_, i) => ({
      message: i === 599 ? '{"user":"jane.doe\\u0040example.com"}' : `{"n":${i}}`,
    }));
    events[0]!.message = '{"contact":"alice@example.com"}';
    const r = redactJsonText(JSON.stringify({ events }));
    const back = JSON.parse(r.text).events;
    expect(back[599].message).toBe('{"user":"[EMAIL]"}');
    expect(back[0].message).toBe('{"contact":"[EMAIL]"}');
    expect(r.count).toBe(2);
  });

  it("spends none of its reading on strings that only open with a bracket (log lines)", () => {
    const logs = Array.from({ length: 1_200 }, (_, i) => `[INFO] line ${i}`);
    const r = redactJsonText(JSON.stringify({ logs, body: '{"contact":"\\u002B44 20 7946 0958"}' }));
    expect(JSON.parse(r.text).body).toBe('{"contact":"[PHONE]"}');
  });

  it("leaves JSON without findings in a string exactly as written", () => {
    const text = inBody('{"n": 1,  "ok" : true}');
    expect(redactJsonText(text)).toMatchObject({ text, count: 0 });
  });
});

describe("redactJsonText", () => {
  it.each([
    ["an address", '{"alice@example.com": 2}', { "[EMAIL]": 2 }, 1],
    ["a secret under another", `{"x": {"${KEY}": "v"}}`, { x: { "[SECRET:OPENAI_KEY]": "v" } }, 1],
    ["two that mask alike", '{"a@example.com": 1, "b@example.com": 2}', { "[EMAIL]": 1, "[EMAIL] 2": 2 }, 2],
    [
      "one masking like a key already there",
      '{"a@example.com": 1, "[EMAIL]": 2}',
      { "[EMAIL] 2": 1, "[EMAIL]": 2 },
      1,
    ],
    [
      "a number under a phone label",
      '{"phones": {"4155550132": "home"}}',
      { phones: { "[PHONE]": "home" } },
      1,
    ],
    ["a spaced SSN under its label", '{"ssn": {"219 09 9999": "x"}}', { ssn: { "[SSN]": "x" } }, 1],
    ["a number under no label", '{"counts": {"4155550132": 1}}', { counts: { "4155550132": 1 } }, 0],
  ])("masks an object's key that is %s, losing no entry", (_what, text, expected, count) => {
    const r = redactJsonText(text);
    expect(JSON.parse(r.text)).toEqual(expected);
    expect(r.count).toBe(count);
  });

  it("masks a Map's string keys and an object's keys in a record", () => {
    const out = redactValue({ m: new Map([["bob@example.com", 1]]), meta: { [KEY]: "x" } }) as {
      m: Map<string, number>;
      meta: Record<string, string>;
    };
    expect([...out.m.keys()]).toEqual(["[EMAIL]"]);
    expect(out.meta).toEqual({ "[SECRET:OPENAI_KEY]": "x" });
  });

  it("tells a labelled value from an unlabelled one that spells the label and a NUL before it", () => {
    const text = JSON.stringify([
      "-----BEGIN PRIVATE KEY-----abc",
      "phone\u00005550199",
      { phone: "5550199" },
    ]);
    expect(JSON.parse(redactJsonText(text).text)[2]).toEqual({ phone: "[PHONE]" });
  });

  it("masks exactly the findings among 100 000 distinct values read in one scan, numbers kept as written", () => {
    const values: unknown[] = Array.from({ length: 100_000 }, (_, i) => `v${i.toString(36)}`);
    values[40_000] = "mail alice.smith@example.com";
    values[70_000] = { phone: "07700900123", total: JSON.parse("10.5"), id: 7 };
    const text = JSON.stringify(values).replace('"total":10.5', '"total":10.50');
    const r = redactJsonText(text);
    const expected = [...values];
    expected[40_000] = "mail [EMAIL]";
    expected[70_000] = { phone: "[PHONE]", total: 10.5, id: 7 };
    expect(JSON.parse(r.text)).toEqual(expected);
    expect(r.text).toContain('"total":10.50');
    expect(r.found).toMatchObject({ EMAIL: 1, PHONE: 1 });
  });

  it.each([
    ["a card number sent as a JSON number", '{"card":4111111111111111,"n":3}', { card: "[CARD]", n: 3 }],
    ["an email nested in arrays", '{"to":["alice.smith@example.com"],"cc":[]}', { to: ["[EMAIL]"], cc: [] }],
    ["a top-level array", '["alice.smith@example.com", 1]', ["[EMAIL]", 1]],
  ])("keeps JSON valid while masking %s", (_, text, expected) => {
    const r = redactJsonText(text);
    expect(JSON.parse(r.text)).toEqual(expected);
    expect(r.count).toBe(1);
  });

  it.each([
    [
      "an id past 2^53",
      '{"tweet_id":1790000000000000001,"phone":"+14155550132"}',
      '{"tweet_id":1790000000000000001,"phone":"[PHONE]"}',
    ],
    [
      "a price with a trailing zero",
      '{"amount":10.50,"email":"x@example.com"}',
      '{"amount":10.50,"email":"[EMAIL]"}',
    ],
    ["a number past a double's range", '[1e400,"x@example.com"]', '[1e400,"[EMAIL]"]'],
    [
      "a card number among them",
      '{"card":4111111111111111,"id":9007199254740993}',
      '{"card":"[CARD]","id":9007199254740993}',
    ],
    [
      "a phone number a float writer wrote",
      '{"phone": 14155550132.0, "n": 10.50}',
      '{"phone":"[PHONE]","n":10.50}',
    ],
    ["a phone number in exponent form", '{"phone": 1.4155550132E10}', '{"phone":"[PHONE]"}'],
    ["a card number written as a float", '{"card": 4111111111111111.0}', '{"card":"[CARD]"}'],
    ["a card number past a double's digits, alone", '{"card": 4000000000000012340}', '{"card":"[CARD]"}'],
    ["a phone number written negative", '{"mobile": -4155550132, "n": -3}', '{"mobile":"[PHONE]","n":-3}'],
  ])("keeps the other numbers as written when it masks: %s", (_, text, expected) => {
    expect(redactJsonText(text)).toMatchObject({ text: expected, count: 1 });
  });

  it("masks a value that repeats at every place it comes, and counts each", () => {
    const r = redactJsonText('["a.b@example.com","x","a.b@example.com",{"to":"a.b@example.com"}]');
    expect(JSON.parse(r.text)).toEqual(["[EMAIL]", "x", "[EMAIL]", { to: "[EMAIL]" }]);
    expect(r).toMatchObject({ count: 3, found: { EMAIL: 3 } });
  });

  it("reads a value that repeats under a label and without one each as it is labelled", () => {
    const r = redactJsonText('{"phones":[4155550132,"4155550132",4155550132],"n":[4155550132,"4155550132"]}');
    expect(JSON.parse(r.text)).toEqual({
      phones: ["[PHONE]", "[PHONE]", "[PHONE]"],
      n: [4155550132, "4155550132"],
    });
    expect(r.count).toBe(3);
  });

  it("still masks a card number of 13 digits sent as a number, and reads shorter ones as the counts they are", () => {
    expect(redactJsonText("[4222222222222,422222222222,7]")).toMatchObject({
      text: '["[CARD]",422222222222,7]',
      count: 1,
    });
  });

  it.each([
    ["a million small numbers", `[${"1,".repeat(1_000_000)}1]`],
    ["one short string repeated a million times", `[${'"ab",'.repeat(1_000_000)}"ab"]`],
  ])("reads a document of %s in well under a second (each scan was microseconds)", (_, text) => {
    const started = performance.now();
    expect(redactJsonText(text).count).toBe(0);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("returns an id past a double's digits as written when nothing in it is masked", () => {
    const text = '{"id": 9007199254740993, "n": 10.50}';
    expect(redactJsonText(text)).toMatchObject({ text, count: 0 });
  });

  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  it.each([
    ["an AWS secret key", `{"SecretAccessKey": "${SECRET}"}`, { SecretAccessKey: "[SECRET:AWS_SECRET_KEY]" }],
    [
      "an AWS secret key (snake case)",
      `{"aws_secret_access_key":"${SECRET}"}`,
      {
        aws_secret_access_key: "[SECRET:AWS_SECRET_KEY]",
      },
    ],
    ["a spaced SSN", '{"ssn": "219 09 9999"}', { ssn: "[SSN]" }],
    ["an unspaced SSN", '{"social_security_number": "536225521"}', { social_security_number: "[SSN]" }],
    ["a compact phone number", '{"phone": "4155550132"}', { phone: "[PHONE]" }],
    ["a national mobile number", '{"mobileNumber": "07700900123"}', { mobileNumber: "[PHONE]" }],
  ])("reads a JSON key as the label of its value: %s", (_, text, expected) => {
    const r = redactJsonText(text);
    expect(JSON.parse(r.text)).toEqual(expected);
    expect(r.count).toBe(1);
  });

  it.each([
    ["a list under a label", '{"phone":["4155550132","4155550133"]}', { phone: ["[PHONE]", "[PHONE]"] }],
    [
      "a plural label",
      '{"phone_numbers":"4155550132","ssns":["219099999"]}',
      {
        phone_numbers: "[PHONE]",
        ssns: ["[SSN]"],
      },
    ],
  ])("reads a JSON key as the label of its value: %s", (_, text, expected) => {
    expect(JSON.parse(redactJsonText(text).text)).toEqual(expected);
  });

  it.each([
    [
      "WhatsApp in camelCase",
      '{"WhatsApp":"4155550132","whatsAppNumber":"07700900123"}',
      {
        WhatsApp: "[PHONE]",
        whatsAppNumber: "[PHONE]",
      },
    ],
    [
      "numbered keys",
      '{"phone1":"4155550132","tel_2":"07700900123"}',
      { phone1: "[PHONE]", tel_2: "[PHONE]" },
    ],
    [
      "plural label words",
      '{"telephones":["4155550132"],"faxes":"4155550133"}',
      {
        telephones: ["[PHONE]"],
        faxes: "[PHONE]",
      },
    ],
    [
      "objects under a label",
      '{"phones":[{"type":"home","number":"4155550132"}],"phoneNumbers":[{"value":"4155550133"}]}',
      {
        phones: [{ type: "home", number: "[PHONE]" }],
        phoneNumbers: [{ value: "[PHONE]" }],
      },
    ],
    ["a whole phone number as a JSON number", '{"mobile":4155550132}', { mobile: "[PHONE]" }],
    [
      "libphonenumber's fields",
      '{"phone":{"countryCode":1,"nationalNumber":4155550132}}',
      {
        phone: { countryCode: 1, nationalNumber: "[PHONE]" },
      },
    ],
    [
      "E.164 keys",
      '{"phone":{"e164":"4155552671","E164":14155552671}}',
      { phone: { e164: "[PHONE]", E164: "[PHONE]" } },
    ],
    [
      "short forms of number after the looser words",
      '{"cell_num":"4155550132","smsNr":"4155550133"}',
      {
        cell_num: "[PHONE]",
        smsNr: "[PHONE]",
      },
    ],
    [
      "acronyms and the looser words before a number",
      '{"AWSSecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","sms_number":"07700900123","cellNumber":"555-0199"}',
      {
        AWSSecretAccessKey: "[SECRET:AWS_SECRET_KEY]",
        sms_number: "[PHONE]",
        cellNumber: "[PHONE]",
      },
    ],
  ])("reads a JSON key as a label: %s", (_, text, expected) => {
    expect(JSON.parse(redactJsonText(text).text)).toEqual(expected);
  });

  it.each([
    ["a device breakdown", '{"desktop":2345678,"mobile":1234567,"tablet":345678}'],
    [
      "counts under a label word that does not end the key",
      '{"totalPhoneCalls":1234567,"lastPhoneSms":1718000000}',
    ],
    ["sales of a product named like a phone", '{"sales":{"iPhone":231218000}}'],
    ["a time series", '{"mobile":[1234567,2345678]}'],
    [
      "a build and a timestamp under a label",
      '{"mobile":{"build":2024011501,"version":"20240115"},"phone":{"verifiedAt":1700000000}}',
    ],
    [
      "counts after plural prose words",
      '{"note":"Total calls: 1234567, sheet cells: 1048576, SMSes 3500000"}',
    ],
    ["keys that only contain a label's letters", '{"telemetry":"4155550132","mobileApp":"4155550132"}'],
  ])("leaves numbers and values no key labels alone: %s", (_, text) => {
    expect(redactJsonText(text)).toMatchObject({ text, count: 0 });
  });

  it("masks JSON nested thousands deep as text, never overflowing the stack", () => {
    const deep = `${"[".repeat(5000)}"alice.smith@example.com"${"]".repeat(5000)}`;
    const r = redactJsonText(deep);
    expect(r.count).toBe(1);
    expect(r.text).toContain("[EMAIL]");
    let nested: unknown = "x";
    for (let i = 0; i < 10_000; i++) nested = [nested];
    expect(() => redactValue({ nested, deep })).not.toThrow();
  });

  it("keeps whole a request body as deep as the gateway accepts (128 levels) inside an audit record", () => {
    let body: unknown = "alice.smith@example.com";
    for (let i = 0; i < 127; i++) body = { a: body };
    let inner = (redactValue({ data: { request: body } }) as { data: { request: unknown } }).data.request;
    for (let i = 0; i < 127; i++) inner = (inner as { a: unknown }).a;
    expect(inner).toBe("[EMAIL]");
  });

  it("reads only the stretches around a round's masks again: glued secrets after 1 MB of digits", () => {
    const digits = "4111 ".repeat(200_000);
    // Each phone is found only once the address before it is masked: a second round.
    const glued = Array.from({ length: 5 }, () => "alice@example.com+14155550132").join(" ");
    // The faster of two runs each, so a busy moment on a shared machine does not decide.
    const time = (text: string) => {
      const runs = [0, 1].map(() => {
        const started = performance.now();
        const r = redactText(text);
        return { ms: performance.now() - started, r };
      });
      return runs[0]!.ms < runs[1]!.ms ? runs[0]! : runs[1]!;
    };
    const plain = time(digits);
    const tail = time(digits + glued);
    // The second round reads a few hundred characters around the addresses; read whole, it was another
    // scan of the megabyte.
    expect(tail.r.count).toBe(10);
    expect(tail.r.text.endsWith(Array.from({ length: 5 }, () => "[EMAIL][PHONE]").join(" "))).toBe(true);
    expect(tail.ms).toBeLessThan(1.5 * plain.ms + 30);
  });

  it("masks findings glued together in one call, as a second call would (idempotent)", () => {
    for (const text of ["alice@example.com+14155550132", "4111111111111111+14155550132"]) {
      const once = redactText(text).text;
      expect(redactText(once).text).toBe(once);
      expect(once).not.toMatch(/\d{6}/);
    }
  });

  it.each([
    ["an id", '{"id": "4155550132"}'],
    ["a hash under a key that says nothing", `{"etag": "${SECRET}"}`],
    ["numbers under keys that only contain a label's letters", '{"hotel":4155550132,"string":"219099999"}'],
    ["numbers under loose prose words", '{"ring":1048576,"cell":12345678,"call":20240601,"sms":1234567}'],
  ])("leaves a value whose key is no label alone: %s", (_, text) => {
    expect(redactJsonText(text)).toMatchObject({ text, count: 0 });
  });

  it("reads an object's keys as labels in redactValue too (a log field, an audit record)", () => {
    expect(
      redactValue({
        SecretAccessKey: SECRET,
        ssn: 219099999,
        phoneNumber: 4155550132,
        phones: ["4155550133"],
      }),
    ).toEqual({
      SecretAccessKey: "[SECRET:AWS_SECRET_KEY]",
      ssn: "[SSN]",
      phoneNumber: "[PHONE]",
      phones: ["[PHONE]"],
    });
    expect(redactValue({ ring: 1048576, count: 4155550132 })).toEqual({ ring: 1048576, count: 4155550132 });
  });

  it.each([
    ["text that is not JSON", "mail alice.smith@example.com", "mail [EMAIL]"],
    ["text that only starts like JSON", "{not json alice.smith@example.com", "{not json [EMAIL]"],
    ["JSON without findings, left byte for byte", '{ "a" : 1 }', '{ "a" : 1 }'],
  ])("masks %s as text", (_, text, expected) => {
    expect(redactJsonText(text).text).toBe(expected);
  });

  it("is what redactValue applies to strings: an audit record's tool-call arguments stay JSON", () => {
    const record = { arguments: '{"card":4111111111111111}' };
    expect(JSON.parse((redactValue(record) as { arguments: string }).arguments)).toEqual({ card: "[CARD]" });
  });
});
