import { describe, expect, it } from "vitest";
import { type Prelude, PreludeDecoder } from "../../../functions/local/prelude-decoder.ts";

const NUL8 = Buffer.alloc(8);
const prelude: Prelude = {
  statusCode: 200,
  headers: { "content-type": "text/event-stream", "x-note": "héllo ✨" },
  cookies: ["a=1"],
};

function frame(p: Prelude, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(p), "utf8"), NUL8, body]);
}

/** Feeds the pieces in order; returns what the decoder reported. */
function decode(pieces: Buffer[]) {
  const preludes: Prelude[] = [];
  const bodies: Buffer[] = [];
  const decoder = new PreludeDecoder(
    (p) => preludes.push(p),
    (b) => bodies.push(Buffer.from(b)),
  );
  for (const piece of pieces) decoder.feed(piece);
  return { preludes, body: Buffer.concat(bodies), bodies, decoded: decoder.decoded };
}

const bodies: Array<[string, Buffer]> = [
  ["an SSE body", Buffer.from('data: {"x":"✨"}\n\ndata: [DONE]\n\n')],
  ["an empty body", Buffer.alloc(0)],
  ["a body holding NUL bytes", Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0])],
];

describe("PreludeDecoder", () => {
  it.each(bodies)("decodes %s fed byte by byte", (_what, body) => {
    const input = frame(prelude, body);
    const out = decode([...input].map((b) => Buffer.from([b])));
    expect(out.preludes).toEqual([prelude]);
    expect(out.body.equals(body)).toBe(true);
    expect(out.decoded).toBe(true);
  });

  it.each(bodies)("decodes %s split in two at every index", (_what, body) => {
    const input = frame(prelude, body);
    for (let at = 0; at <= input.length; at++) {
      const out = decode([input.subarray(0, at), input.subarray(at)]);
      expect(out.preludes, `split at ${at}`).toEqual([prelude]);
      expect(out.body.equals(body), `split at ${at}`).toBe(true);
    }
  });

  it("decodes a frame split in three at every pair of indices", () => {
    const body = Buffer.from([0, 7, 0]);
    const input = frame({ statusCode: 201 }, body);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const out = decode([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
        expect(out.preludes).toEqual([{ statusCode: 201 }]);
        expect(out.body.equals(body)).toBe(true);
      }
    }
  });

  it("passes body chunks through as they arrive once the prelude is known", () => {
    const out = decode([frame(prelude, Buffer.from("a")), Buffer.from("b"), Buffer.from("c")]);
    expect(out.bodies.map(String)).toEqual(["a", "b", "c"]);
  });

  it("reports the prelude once even when the body repeats the delimiter", () => {
    const body = Buffer.concat([NUL8, Buffer.from(JSON.stringify({ statusCode: 500 })), NUL8]);
    const out = decode([frame(prelude, body)]);
    expect(out.preludes).toEqual([prelude]);
    expect(out.body.equals(body)).toBe(true);
  });

  it("reports nothing until the delimiter is complete", () => {
    const input = frame(prelude, Buffer.from("x"));
    const out = decode([input.subarray(0, input.length - 2)]);
    expect(out).toMatchObject({ preludes: [], decoded: false });
    expect(out.body.length).toBe(0);
  });

  it("ignores empty chunks", () => {
    const out = decode([Buffer.alloc(0), frame(prelude, Buffer.alloc(0)), Buffer.alloc(0)]);
    expect(out.bodies).toEqual([]);
    expect(out.preludes).toHaveLength(1);
  });

  it("throws once more than 64 KiB arrive without a delimiter", () => {
    const decoder = new PreludeDecoder(
      () => {},
      () => {},
    );
    const kib = Buffer.alloc(1024, "a");
    for (let i = 0; i < 64; i++) decoder.feed(kib);
    expect(() => decoder.feed(Buffer.from("a"))).toThrow(/64 KiB/);
  });

  it("accepts a prelude of almost 64 KiB", () => {
    const big: Prelude = { headers: { "x-big": "v".repeat(64 * 1024 - 40) } };
    const out = decode([frame(big, Buffer.from("ok"))]);
    expect(out.preludes).toEqual([big]);
    expect(String(out.body)).toBe("ok");
  });

  it("throws on a prelude that is not JSON", () => {
    expect(() => decode([Buffer.concat([Buffer.from("HTTP/1.1 200"), NUL8])])).toThrow(SyntaxError);
  });
});
