import { describe, expect, it } from "vitest";
import { dayKey, monthKey, periodKey } from "../../../core/budgets/periods.ts";

const at = (iso: string) => Date.parse(iso);

describe("period keys", () => {
  it.each([
    ["2026-11-26T00:00:00.000Z", "2026-11-26", "2026-11"],
    ["2026-11-26T23:59:59.999Z", "2026-11-26", "2026-11"],
    ["2026-11-30T23:59:59.999Z", "2026-11-30", "2026-11"],
    ["2026-12-01T00:00:00.000Z", "2026-12-01", "2026-12"],
    ["2027-01-01T00:00:00.000Z", "2027-01-01", "2027-01"],
    ["2028-02-29T12:00:00.000Z", "2028-02-29", "2028-02"],
  ])("%s is day %s of month %s (UTC)", (iso, day, month) => {
    expect([dayKey(at(iso)), monthKey(at(iso))]).toEqual([day, month]);
    expect([periodKey("day", at(iso)), periodKey("month", at(iso))]).toEqual([day, month]);
  });

  it("answers right when times jump back and forth across midnight", () => {
    const times = ["2026-11-26T23:59:59.999Z", "2026-11-27T00:00:00.000Z", "2026-11-26T08:00:00.000Z"];
    for (let i = 0; i < 3; i++)
      expect(times.map((t) => dayKey(at(t)))).toEqual(["2026-11-26", "2026-11-27", "2026-11-26"]);
  });

  it("handles times before 1970", () => {
    expect(dayKey(at("1969-12-31T23:00:00.000Z"))).toBe("1969-12-31");
  });
});
