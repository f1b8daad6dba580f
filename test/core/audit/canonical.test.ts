import { describe, expect, it } from "vitest";
import { CanonicalizationError, canonical, canonicalBytes } from "../../../core/audit/canonical.ts";

/** IEEE 754 bit pattern → number. */
const fromBits = (hex: string) => Buffer.from(hex, "hex").readDoubleBE(0);

describe("canonical (RFC 8785 JCS)", () => {
  it("RFC 8785 §3.2.2 example: numbers, escaping and literals", () => {
    // The RFC's input, written as JSON text so the parser sees 4.50, 1E30, …
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    expect(canonical(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("RFC 8785 §3.2.4: the UTF-8 bytes of that example", () => {
    const bytes = canonicalBytes({ string: '€$\u000f\nA\'B"\\\\"/' });
    // € is e2 82 ac; \u000f is written as the six ASCII characters \u000f.
    expect(bytes.toString("hex")).toBe(
      Buffer.from('{"string":"', "latin1").toString("hex") +
        "e282ac24" +
        Buffer.from('\\u000f\\nA\'B\\"\\\\\\\\\\"/"}', "latin1").toString("hex"),
    );
  });

  it("RFC 8785 §3.2.3: property sorting by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // Read the order from the text: JSON.parse would move the integer-like key "1" first.
    const order = [...canonical(input).matchAll(/:"([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code unit, though after it by code point.
    expect(canonical({ "\ufb33": 1, "\ud83d\ude00": 2 })).toBe('{"\ud83d\ude00":2,"\ufb33":1}');
  });

  it("RFC 8785 Appendix B: number serialization samples", () => {
    const samples: Array<[string, string]> = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"], // -0
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, text] of samples) expect(canonical(fromBits(bits)), bits).toBe(text);
    // Appendix B's non-finite patterns must be errors.
    for (const bits of ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"]) {
      expect(() => canonical(fromBits(bits)), bits).toThrow(CanonicalizationError);
    }
  });

  it("the brief's number table", () => {
    expect(canonical([1e30, 4.5, 2e-3, -0, 4.5])).toBe("[1e+30,4.5,0.002,0,4.5]");
    expect(canonical(JSON.parse("[1E30, 4.50, 2e-3, -0, 100, 1e21, 1e-7]"))).toBe(
      "[1e+30,4.5,0.002,0,100,1e+21,1e-7]",
    );
  });

  it("cyberphone testdata: structures (nested sorting, empty objects, \\n key)", () => {
    const input = JSON.parse(
      '{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}',
    );
    expect(canonical(input)).toBe(
      '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
    );
  });

  it("sorting ignores locale (cyberphone testdata: french)", () => {
    const input = { peach: 1, péché: 2, pêche: 3, sin: 4 };
    expect(canonical(input)).toBe('{"peach":1,"péché":2,"pêche":3,"sin":4}');
  });

  it("strings: only the required escapes", () => {
    expect(canonical("</script>\u007f\u0080\u2028/")).toBe('"</script>\u007f\u0080\u2028/"');
    expect(canonical("\b\f\n\r\t\u0000\u001f")).toBe('"\\b\\f\\n\\r\\t\\u0000\\u001f"');
  });

  it("undefined members are omitted, undefined array elements are null, toJSON is used", () => {
    expect(canonical({ b: undefined, a: [undefined, 1], d: new Date(0) })).toBe(
      '{"a":[null,1],"d":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it("is stable across a JSON round trip", () => {
    const value = { z: [1.5, { y: null, x: "é" }], a: -0, n: 1e-7, u: undefined };
    expect(canonical(JSON.parse(JSON.stringify(value)))).toBe(canonical(value));
  });

  it("rejects what is not I-JSON", () => {
    expect(() => canonical({ a: Number.NaN })).toThrow(/\$\.a: NaN/);
    expect(() => canonical([Number.POSITIVE_INFINITY])).toThrow(CanonicalizationError);
    expect(() => canonical(1n)).toThrow(/bigint/);
    expect(() => canonical({ f: () => 1 })).toThrow(/function/);
    expect(() => canonical("\ud800")).toThrow(/lone surrogate/);
    expect(() => canonical({ "\udc00": 1 })).toThrow(/lone surrogate/);
    expect(() => canonical(undefined)).toThrow(CanonicalizationError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonical(cyclic)).toThrow(/cycle/);
  });

  it("a shared (non-cyclic) sub-object is fine", () => {
    const shared = { x: 1 };
    expect(canonical({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
