import { describe, expect, it } from "vitest";
import { createSqliteSpendStore } from "../../core/budgets/spend-sqlite-store.ts";
import type { GatewayEvent } from "../../core/events/port.ts";
import type { UsageDetail } from "../../core/events/usage.ts";
import { silentLog } from "../../core/log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { createCostAggregatorHandler } from "../../functions/cost-aggregator-handler.ts";
import { usage as usageOf } from "../fixtures/usage.ts";

/** The cost aggregator reads only the id, the cost and whose it is. */
const usage = (requestId: string, costUsd: number) => usageOf(requestId, { costUsd });
const envelope = (detail: UsageDetail) => ({
  id: detail.requestId,
  source: "llm-gateway",
  "detail-type": "llm.usage",
  detail,
});
function aggregator() {
  const published: GatewayEvent[] = [];
  const handle = createCostAggregatorHandler(
    {
      spend: createSqliteSpendStore(openDatabase(":memory:")),
      events: { publish: async (events) => void published.push(...events) },
      orgBudgets: async () => [{ period: "day", limitUsd: 1 }],
      keyBudgets: async () => [],
    },
    silentLog,
  );
  return { handle, published };
}

describe("the cost aggregator handler", () => {
  it("refuses a malformed event naming the bad field", async () => {
    const { handle } = aggregator();
    await expect(handle({ ...envelope(usage("r1", 0.1)), source: "someone-else" })).rejects.toThrow(/source/);
    await expect(handle(envelope({ ...usage("r1", 0.1), costUsd: -1 }))).rejects.toThrow(/costUsd/);
  });

  it("counts a redelivered event once and emits each threshold once", async () => {
    const { handle, published } = aggregator();
    expect((await handle(envelope(usage("r1", 0.6)))).counted).toBe(true);
    expect((await handle(envelope(usage("r1", 0.6)))).counted).toBe(false);
    await handle(envelope(usage("r2", 0.3)));
    await handle(envelope(usage("r3", 0.2)));
    expect(published.map((e) => e.detail.threshold)).toEqual([50, 80, 100]);
    expect(published.every((e) => e.detailType === "budget.threshold")).toBe(true);
  });
});
