import { describe, expect, it } from "vitest";
import { sumUsage } from "../../../core/budgets/rollup-sums.ts";
import { usage } from "../../fixtures/usage.ts";

describe("sumUsage", () => {
  it("sums events of one org, key and model on one day into one rollup row and four period totals", () => {
    const { rollups, periods } = sumUsage([usage("r1"), usage("r2", { costUsd: 0.2 })]);
    expect(rollups).toEqual([
      {
        day: "2026-11-26",
        org: "acme",
        keyId: "k1",
        provider: "openai",
        model: "gpt-4o",
        requests: 2,
        inputTokens: 200,
        outputTokens: 40,
        costNanos: 300_000_000,
      },
    ]);
    expect(periods).toEqual([
      { scope: "org", id: "acme", periodKey: "2026-11-26", costNanos: 300_000_000 },
      { scope: "org", id: "acme", periodKey: "2026-11", costNanos: 300_000_000 },
      { scope: "key", id: "acme/k1", periodKey: "2026-11-26", costNanos: 300_000_000 },
      { scope: "key", id: "acme/k1", periodKey: "2026-11", costNanos: 300_000_000 },
    ]);
  });

  it.each([
    ["another day", { time: "2026-11-27T00:00:00.000Z" }],
    ["another key", { keyId: "k2" }],
    ["another model", { providerModel: "gpt-4o-mini" }],
    ["another provider", { provider: "azure" }],
  ])("keeps an event of %s in its own rollup row", (_, over) => {
    expect(sumUsage([usage("r1"), usage("r2", over)]).rollups).toHaveLength(2);
  });

  it("rolls a request no provider served up under provider 'none' and the alias asked for", () => {
    const { rollups } = sumUsage([
      usage("r1", { provider: undefined, providerModel: undefined, costUsd: 0 }),
    ]);
    expect(rollups[0]).toMatchObject({ provider: "none", model: "smart", costNanos: 0 });
  });

  it("adds integer nano-dollars, so a thousand $0.07 costs sum to exactly $70", () => {
    const many = Array.from({ length: 1000 }, (_, i) => usage(`r${i}`, { costUsd: 0.07 }));
    expect(sumUsage(many).rollups[0]!.costNanos).toBe(70_000_000_000);
  });

  it("counts a request cheaper than a micro-dollar: 21 × $0.0000002 sum to $0.0000042, not $0", () => {
    const tiny = Array.from({ length: 21 }, (_, i) => usage(`r${i}`, { costUsd: 0.0000002 }));
    const { rollups, periods } = sumUsage(tiny);
    expect(rollups[0]!.costNanos).toBe(4_200);
    expect(periods.every((p) => p.costNanos === 4_200)).toBe(true);
  });

  it("rolls a failed attempt's billed cost up under the provider that billed it, the rest under the one that served", () => {
    const billed = {
      provider: "openai",
      model: "gpt-4o",
      outcome: "failed" as const,
      ms: 5,
      answered: true,
      costUsd: 0.005219,
    };
    const { rollups, periods } = sumUsage([
      usage("r1", {
        provider: "anthropic",
        providerModel: "claude-sonnet-4-5",
        costUsd: 0.013738,
        attempts: [
          billed,
          billed,
          { provider: "anthropic", model: "claude-sonnet-4-5", outcome: "ok", ms: 400 },
        ],
      }),
    ]);
    expect(rollups).toEqual([
      expect.objectContaining({
        provider: "openai",
        model: "gpt-4o",
        requests: 0,
        inputTokens: 0,
        costNanos: 10_438_000,
      }),
      expect.objectContaining({
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        requests: 1,
        inputTokens: 100,
        costNanos: 3_300_000,
      }),
    ]);
    // The budget periods count the whole request.
    expect(periods.every((p) => p.costNanos === 13_738_000)).toBe(true);
  });

  it("gives nothing for no events", () => {
    expect(sumUsage([])).toEqual({ rollups: [], periods: [] });
  });
});
