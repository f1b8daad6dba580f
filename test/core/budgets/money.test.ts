import { describe, expect, it } from "vitest";
import {
  costByBiller,
  decimalNanos,
  limitNanos,
  nanos,
  reserveNanos,
  storedNanos,
  usdAmountText,
  usdDecimal,
  usdOf,
  usdText,
} from "../../../core/budgets/money.ts";

describe("money", () => {
  it.each([
    // [usd, nanos, reserve (up), limit (down)]
    [0.07, 70_000_000, 70_000_000, 70_000_000],
    [0.0000002, 200, 200, 200],
    [1e-10, 0, 1, 0],
    [0.0000000015, 2, 2, 1],
    [12.5, 12_500_000_000, 12_500_000_000, 12_500_000_000],
  ])("holds $%d as %d nano-dollars (reserved as %d, a limit as %d)", (usd, n, up, down) => {
    expect(nanos(usd)).toBe(n);
    expect(reserveNanos(usd)).toBe(up);
    expect(limitNanos(usd)).toBe(down);
  });

  it.each([
    [16_410.62, 16_410_620_000_000],
    [8_388_608.01, 8_388_608_010_000_000],
    [7_605_400.377345352, 7_605_400_377_345_352],
    [0.0500000009, 50_000_000],
    [1e-9, 1],
  ])("holds a limit of $%d as %d nano-dollars, and as those once more after a round trip", (usd, n) => {
    expect(limitNanos(usd)).toBe(n);
    expect(limitNanos(usdOf(n))).toBe(n);
  });

  it("gives back dollars", () => {
    expect(usdOf(4_200)).toBe(0.0000042);
  });

  it("reads a reservation recorded in micro-dollars by an earlier version", () => {
    expect(storedNanos({ amountMicros: 146 })).toBe(146_000);
    expect(storedNanos({ amountNanos: 146_123 })).toBe(146_123);
  });

  it.each([
    [5, "5.00"],
    [0.04, "0.04"],
    [12.5, "12.50"],
    [0.002, "0.002"],
    [0.045, "0.045"],
    [0.0000002, "0.0000002"],
    // As enforced: rounded down to the nano-dollar, as limitNanos rounds it.
    [1.5e-9, "0.000000001"],
    [0.0700000019, "0.070000001"],
  ])("writes a limit of %s as $%s", (usd, text) => {
    expect(usdText(usd)).toBe(text);
  });

  it.each([
    [0, "0.00"],
    [0.032, "0.0320"],
    [1.5, "1.5000"],
    [0.0016, "0.0016"],
    [0.002, "0.0020"],
    [2, "2.0000"],
    [0.000000225, "0.000000225"],
    // Never rounded up past a limit it reached: $0.0114 would be more than a limit of $0.01135.
    [0.01135, "0.01135"],
    [12.345678912, "12.345678912"],
  ])("writes an amount of %s as $%s", (usd, text) => {
    expect(usdAmountText(usd)).toBe(text);
  });

  it("splits a request's cost by who billed it: failed attempts their providers answered, the rest served", () => {
    const attempts = [
      { provider: "oa", model: "gpt-4o", answered: true, costUsd: 0.005219 },
      { provider: "oa", model: "gpt-4o" },
      { provider: "an", model: "claude-sonnet-4-5" },
    ];
    expect(costByBiller(0.008519, attempts)).toEqual({
      billed: [{ provider: "oa", model: "gpt-4o", nanos: 5_219_000 }],
      servedNanos: 3_300_000,
    });
    expect(costByBiller(0.1, [])).toEqual({ billed: [], servedNanos: 100_000_000 });
  });
});

describe("money as DynamoDB decimals", () => {
  it.each([
    [0, "0"],
    [1, "0.000000001"],
    [70_000_000, "0.07"],
    [5_000_000_000, "5"],
    [-250_000_000, "-0.25"],
    // Past $8 388 608 a double no longer holds every nano-dollar: 8500000.000000001 would print as …002.
    [8_500_000_000_000_001, "8500000.000000001"],
    [8_999_999_999_999_999, "8999999.999999999"],
  ])("writes %i nano-dollars as %s and reads it back exactly", (n, text) => {
    expect(usdDecimal(n)).toBe(text);
    expect(decimalNanos(text)).toBe(n);
  });

  it.each([
    ["12", 12_000_000_000],
    ["0.0000000015", 2],
    ["-3.5", -3_500_000_000],
    ["1E+2", 100_000_000_000],
  ])("reads %s as %i nano-dollars", (text, n) => {
    expect(decimalNanos(text)).toBe(n);
  });
});
