import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../core/audit/chain.ts";
import { boundedData, CUT_HEAD_CHARS, cutField, MAX_DATA_BYTES } from "../../../core/audit/record-size.ts";
import { auditRecord } from "../../../core/audit/records.ts";

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
const prompt = (chars: number, unit = "a") => ({ messages: [{ role: "user", content: unit.repeat(chars) }] });

describe("the size of an audit record's data", () => {
  it("keeps data that fits as it is", () => {
    const data = { request: prompt(1000), status: 200 };
    expect(boundedData(data)).toBe(data);
  });

  it("cuts the largest field of data that does not fit, keeping its size, hash and first characters", () => {
    const request = prompt(460_000);
    const out = boundedData({ request, response: { content: "short" }, status: 200 });
    const json = JSON.stringify(request);
    expect(out.request).toEqual({
      cut: true,
      bytes: Buffer.byteLength(json),
      sha256: sha256Hex(json),
      head: json.slice(0, CUT_HEAD_CHARS),
    });
    expect(out.response).toEqual({ content: "short" });
    expect(bytes(out)).toBeLessThanOrEqual(MAX_DATA_BYTES);
  });

  it("cuts the next largest field too when one cut is not enough", () => {
    const out = boundedData({
      request: prompt(250_000),
      response: { content: "b".repeat(250_000) },
      status: 200,
    });
    expect(out.request).toMatchObject({ cut: true });
    expect(out.response).toMatchObject({ cut: true });
    expect(out.status).toBe(200);
    expect(bytes(out)).toBeLessThanOrEqual(MAX_DATA_BYTES);
  });

  it.each([
    ["three-byte characters", "語"],
    ["characters JSON escapes", '"'],
  ])("stays within the bound for %s", (_, unit) => {
    const out = boundedData({ request: prompt(400_000, unit), response: { content: unit.repeat(70_000) } });
    expect(bytes(out)).toBeLessThanOrEqual(MAX_DATA_BYTES);
  });

  it("never leaves half a surrogate pair at the end of a cut", () => {
    const emoji = "😀".repeat(CUT_HEAD_CHARS);
    const head = cutField(emoji).head;
    expect(head.isWellFormed()).toBe(true);
  });

  it("bounds every record it builds, after redacting it", () => {
    const record = auditRecord("e1", "acme", "request", 0, "k1", {
      request: prompt(300_000, "mail me at a@example.com "),
    });
    expect(bytes(record.data)).toBeLessThanOrEqual(MAX_DATA_BYTES);
    expect((record.data.request as { head: string }).head).not.toContain("a@example.com");
  });
});
