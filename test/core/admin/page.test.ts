import { describe, expect, it } from "vitest";
import { PAGE_BYTES, page } from "../../../core/admin/page.ts";

const item = (id: string, bytes: number) => ({ id, note: "x".repeat(bytes) });

describe("an admin list page", () => {
  it("ends before its items pass PAGE_BYTES of JSON, and the next page goes on from there", () => {
    // Five items of a quarter of the budget each: with their JSON's few more bytes, four would pass it.
    const items = ["a", "b", "c", "d", "e"].map((id) => item(id, PAGE_BYTES / 4));
    const first = page(items, (i) => i.id, { limit: "10" });
    expect(first.data.map((i) => i.id)).toEqual(["a", "b", "c"]);
    expect(first).toMatchObject({ last_id: "c", has_more: true });
    const second = page(items, (i) => i.id, { limit: "10", after: "c" });
    expect(second.data.map((i) => i.id)).toEqual(["d", "e"]);
    expect(second.has_more).toBe(false);
  });

  it("holds one item even when that item alone passes PAGE_BYTES, so paging moves on", () => {
    const items = [item("a", PAGE_BYTES + 1), item("b", 10)];
    expect(page(items, (i) => i.id, {}).data.map((i) => i.id)).toEqual(["a"]);
    expect(page(items, (i) => i.id, { after: "a" }).data.map((i) => i.id)).toEqual(["b"]);
  });

  it("counts the bytes of the JSON sent, escapes included", () => {
    // A control character takes 6 bytes in JSON (\u0001): two items of a tenth of the budget in
    // characters already pass it.
    const items = ["a", "b", "c"].map((id) => ({ id, note: "\u0001".repeat(PAGE_BYTES / 10) }));
    expect(page(items, (i) => i.id, {}).data).toHaveLength(1);
  });

  it("counts them as a Lambda answer carries the body, a string escaped once more", () => {
    // A quote is 2 bytes of JSON and 4 in the Lambda response: two items of a sixth of the budget in
    // quotes pass it there, where they would fit as the body alone.
    const items = ["a", "b", "c"].map((id) => ({ id, note: '"'.repeat(PAGE_BYTES / 6) }));
    expect(page(items, (i) => i.id, {}).data).toHaveLength(1);
  });
});
