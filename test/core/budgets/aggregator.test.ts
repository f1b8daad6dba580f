import { describe, expect, it } from "vitest";
import { aggregateUsage, aggregateUsageBatch } from "../../../core/budgets/aggregator.ts";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import type { GatewayEvent } from "../../../core/events/port.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { usage as usageOf } from "../../fixtures/usage.ts";

/** The cost aggregator reads only the id, the cost and whose it is. */
const usage = (requestId: string, costUsd: number) => usageOf(requestId, { costUsd });

function deps() {
  const published: GatewayEvent[] = [];
  const spend = createSqliteSpendStore(openDatabase(":memory:"));
  return {
    published,
    spend,
    deps: {
      spend,
      events: { publish: async (e: GatewayEvent[]) => void published.push(...e) },
      orgBudgets: async () => [{ period: "day" as const, limitUsd: 1 }],
      keyBudgets: async () => [{ period: "month" as const, limitUsd: 10 }],
    },
  };
}

describe("the cost aggregator", () => {
  it("counts a batch like one event at a time: redeliveries once, each threshold once", async () => {
    const one = deps();
    for (const [id, cost] of [
      ["a", 0.3],
      ["b", 0.3],
      ["a", 0.3],
      ["c", 0.5],
    ] as const)
      await aggregateUsage(usage(id, cost), one.deps);
    const many = deps();
    await aggregateUsageBatch([usage("a", 0.3), usage("b", 0.3)], many.deps);
    await aggregateUsageBatch([usage("a", 0.3), usage("c", 0.5)], many.deps);
    const thresholds = (x: ReturnType<typeof deps>) =>
      x.published.map((e) => `${e.detail.scope}:${e.detail.threshold}`);
    expect(thresholds(many)).toEqual(thresholds(one));
    expect(thresholds(many)).toEqual(["org:50", "org:80", "org:100"]);
    expect(await many.spend.periodSpend("org", "acme", "2026-11-26")).toBeCloseTo(1.1, 9);
  });

  it("refuses a batch holding an invalid event, naming the field, before counting any of it", async () => {
    const d = deps();
    await expect(
      aggregateUsageBatch([usage("a", 0.1), { ...usage("b", 0.1), org: "" }], d.deps),
    ).rejects.toThrow(/org/);
    expect(await d.spend.periodSpend("org", "acme", "2026-11-26")).toBe(0);
  });
});
