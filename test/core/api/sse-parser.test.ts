import { describe, expect, it } from "vitest";
import { createSseParser, type SseEvent, type SseParserOptions } from "../../../core/api/sse-parser.ts";

/** The events (and what else the parser said) of `pieces` fed one after the other. */
function parse(pieces: string[], opts: SseParserOptions = {}) {
  const events: SseEvent[] = [];
  let comments = 0;
  let overflows = 0;
  const parser = createSseParser((e) => events.push(e), {
    ...opts,
    onComment: () => comments++,
    onOverflow: () => overflows++,
  });
  for (const p of pieces) parser.feed(p);
  return { events, comments, overflows };
}

const ev = (data: string, event?: string): SseEvent => ({ event, data });

describe("the SSE parser, after the WHATWG event-stream rules", () => {
  it.each([
    ["LF line ends", "data: a\n\ndata: b\n\n", [ev("a"), ev("b")]],
    ["CRLF line ends", "data: a\r\n\r\ndata: b\r\n\r\n", [ev("a"), ev("b")]],
    ["CR line ends", "data: a\r\rdata: b\r\r", [ev("a"), ev("b")]],
    ["mixed line ends", "data: a\r\n\ndata: b\r\r\n", [ev("a"), ev("b")]],
    ["several data lines, joined by LF", "data: a\ndata:\ndata: c\n\n", [ev("a\n\nc")]],
    ["a data line without a colon (empty data)", "data\n\n", [ev("")]],
    ["no space after the colon", "data:a\n\n", [ev("a")]],
    ["only the first space after the colon taken off", "data:  a \n\n", [ev(" a ")]],
    [
      "an event type, reset after its event",
      "event: ping\ndata: {}\n\ndata: x\n\n",
      [ev("{}", "ping"), ev("x")],
    ],
    ["an event type without data, which dispatches nothing", "event: ping\n\ndata: x\n\n", [ev("x")]],
    ["id, retry and unknown fields, ignored", "id: 7\nretry: 10\nfoo: bar\ndata: x\n\n", [ev("x")]],
    ["a leading byte-order mark, taken off once", "\uFEFFdata: a\n\n", [ev("a")]],
    ["a byte-order mark later, kept as text", "data: a\uFEFF\n\n", [ev("a\uFEFF")]],
    ["an unfinished event at the end, not dispatched", "data: a\n\ndata: b\n", [ev("a")]],
    ["blank lines between events", "\n\n\ndata: a\n\n\n\n", [ev("a")]],
  ])("reads %s", (_, text, expected) => {
    expect(parse([text]).events).toEqual(expected);
    // The same, however the network cut it: every split, down to one character a read.
    expect(parse([...text]).events).toEqual(expected);
    for (let cut = 1; cut < text.length; cut++)
      expect(parse([text.slice(0, cut), text.slice(cut)]).events).toEqual(expected);
  });

  it("tells a CR at the end of one read and a LF at the start of the next apart from a blank line", () => {
    expect(parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"]).events).toEqual([ev("a\nb")]);
  });

  it("skips comments, and says each one came", () => {
    expect(parse([": ping\n\n: ping\ndata: a\n\n"])).toMatchObject({ events: [ev("a")], comments: 2 });
  });

  it("reads a read of 100 000 events in one pass", () => {
    const started = performance.now();
    const { events } = parse(["data: {}\n\n".repeat(100_000)]);
    expect(events).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("the SSE parser's bounds on one event", () => {
  it.each([
    ["one endless line", ["data: ", ..."x".repeat(200)], { maxEventChars: 100 }],
    ["an endless line of comment", [": ", ..."x".repeat(200)], { maxEventChars: 100 }],
    ["data lines past the characters", Array(60).fill("data: xx\n"), { maxEventChars: 100 }],
    [
      "empty data lines past the lines",
      Array(60).fill("data:\n"),
      { maxEventChars: 1_000, maxEventLines: 50 },
    ],
    // A kept data value is a slice of its read, and holds the whole read: what came with it counts.
    [
      "comments and other fields between an event's data lines",
      Array(10).fill(`: ${"c".repeat(40)}\nid: 1\ndata: x\n`),
      { maxEventChars: 100 },
    ],
  ] as const)("stops for good at %s, once", (_, pieces, opts) => {
    const result = parse([...pieces, "\n\ndata: after\n\n"], opts);
    expect(result.overflows).toBe(1);
    expect(result.events).toEqual([]);
  });

  it("counts each event on its own: many small events add up to no overflow", () => {
    const result = parse(Array(1_000).fill("data: 0123456789\n\n"), { maxEventChars: 100, maxEventLines: 2 });
    expect(result).toMatchObject({ overflows: 0 });
    expect(result.events).toHaveLength(1_000);
  });
});
