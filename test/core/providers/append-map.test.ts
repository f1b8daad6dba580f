import { describe, expect, it } from "vitest";
import { emptyAppendMap, lookup, withEntry } from "../../../core/providers/append-map.ts";

describe("AppendMap: a map each state grows without copying, and each state reads as it was made", () => {
  it("reads the entries added up to a state, and none added after it", () => {
    const a = withEntry(emptyAppendMap<string, number>(), "x", 1);
    const b = withEntry(a, "y", 2);
    expect([lookup(a, "x"), lookup(a, "y")]).toEqual([1, undefined]);
    expect([lookup(b, "x"), lookup(b, "y")]).toEqual([1, 2]);
    expect(b.shared).toBe(a.shared);
  });

  it("copies when an older state grows, so its two successors never see each other's entries", () => {
    const a = withEntry(emptyAppendMap<string, number>(), "x", 1);
    const b = withEntry(a, "y", 2);
    const c = withEntry(a, "z", 3);
    expect(c.shared).not.toBe(a.shared);
    expect([lookup(b, "y"), lookup(b, "z")]).toEqual([2, undefined]);
    expect([lookup(c, "x"), lookup(c, "y"), lookup(c, "z")]).toEqual([1, undefined, 3]);
    expect([lookup(a, "y"), lookup(a, "z")]).toEqual([undefined, undefined]);
  });

  it("gives a key set again its later value in place, and leaves the state it came from with the earlier one", () => {
    const a = withEntry(emptyAppendMap<string, number>(), "x", 1);
    const b = withEntry(a, "x", 2);
    expect([lookup(a, "x"), lookup(b, "x")]).toEqual([1, 2]);
    expect(b.shared).toBe(a.shared);
  });

  it("gives an older state set again its own value, over what came after it", () => {
    const a = withEntry(emptyAppendMap<string, number>(), "x", 1);
    const b = withEntry(a, "x", 2);
    const c = withEntry(a, "x", 3);
    expect([lookup(a, "x"), lookup(b, "x"), lookup(c, "x")]).toEqual([1, 2, 3]);
  });
});
