import { describe, expect, it } from "vitest";
import {
  type AggregatorDeps,
  aggregateUsage,
  aggregateUsageBatch,
} from "../../../core/budgets/aggregator.ts";
import type { SpendStoreOptions } from "../../../core/budgets/spend-port.ts";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import type { BudgetConfig } from "../../../core/config/types.ts";
import type { GatewayEvent } from "../../../core/events/port.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { usage as usageOf } from "../../fixtures/usage.ts";

/** The cost aggregator reads only the id, the cost and whose it is. */
const usage = (requestId: string, costUsd: number) => usageOf(requestId, { costUsd });

function deps(options: SpendStoreOptions = {}): {
  published: GatewayEvent[];
  spend: ReturnType<typeof createSqliteSpendStore>;
  budgets: { org: BudgetConfig[] };
  deps: AggregatorDeps;
} {
  const published: GatewayEvent[] = [];
  const spend = createSqliteSpendStore(openDatabase(":memory:"), options);
  const budgets = { org: [{ period: "day" as const, limitUsd: 1 }] as BudgetConfig[] };
  return {
    published,
    spend,
    budgets,
    deps: {
      spend,
      events: { publish: async (e: GatewayEvent[]) => void published.push(...e) },
      orgBudgets: async () => budgets.org,
      keyBudgets: async () => [{ period: "month" as const, limitUsd: 10 }],
    },
  };
}

const thresholds = (x: ReturnType<typeof deps>) =>
  x.published.map((e) => `${e.detail.scope}:${e.detail.threshold}:${e.detail.limitUsd}`);

/** A request the org's daily budget refused: it costs nothing and names the budget and its limit. */
const refused = (requestId: string, limitUsd = 1) =>
  usageOf(requestId, {
    costUsd: 0,
    status: 429,
    provider: null,
    providerModel: null,
    budgetRefused: { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26", limitUsd },
  });

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
    expect(thresholds(many)).toEqual(thresholds(one));
    expect(thresholds(many)).toEqual(["org:50:1", "org:80:1", "org:100:1"]);
    expect(await many.spend.periodSpend("org", "acme", "2026-11-26")).toBeCloseTo(1.1, 9);
  });

  it("names a limit stored with digits past the nano-dollar as it is enforced, one limit however written", async () => {
    const d = deps();
    d.budgets.org = [{ period: "day", limitUsd: 1.0000000009 }];
    await aggregateUsage(usage("a", 0.6), d.deps);
    expect(d.published.map((e) => e.id)).toEqual(["threshold-org-acme-2026-11-26-50-1"]);
    // Written another way, the same enforced $1.000000000: its 50 % line has fired already.
    d.budgets.org = [{ period: "day", limitUsd: 1.0000000001 }];
    await aggregateUsage(usage("b", 0.3), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1", "org:80:1"]);
  });

  it.each([
    ["one event at a time", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsage(u, d)],
    ["in batches", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsageBatch([u], d)],
  ])("fires no alert for a refusal of a request too large for the whole budget (%s)", async (_, deliver) => {
    const d = deps();
    const tooLarge = refused("huge");
    (tooLarge.budgetRefused as { pastLimit?: true }).pastLimit = true;
    await deliver(tooLarge, d.deps);
    expect(thresholds(d)).toEqual([]);
    // A refusal for lack of room uses the budget up: 50, 80 and 100 % fire.
    await deliver(refused("full"), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1", "org:80:1", "org:100:1"]);
  });

  it.each([
    ["one event at a time", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsage(u, d)],
    ["in batches", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsageBatch([u], d)],
  ])("fires an alert whose publish failed on the event's redelivery (%s), once", async (_, deliver) => {
    const d = deps();
    const publish = d.deps.events.publish;
    d.deps.events.publish = async () => {
      throw new Error("bus unavailable");
    };
    await expect(deliver(usage("a", 0.6), d.deps)).rejects.toThrow("bus unavailable");
    expect(d.published).toEqual([]);
    d.deps.events.publish = publish;
    await deliver(usage("a", 0.6), d.deps);
    await deliver(usage("a", 0.6), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1"]);
    expect(await d.spend.periodSpend("org", "acme", "2026-11-26")).toBeCloseTo(0.6, 9);
  });

  it.each([
    [
      "its publish failed and so did giving its claim back (the store was down too)",
      (d: ReturnType<typeof deps>) => {
        const publish = d.deps.events.publish;
        let fails = 1;
        d.deps.events.publish = async (e) => {
          if (fails-- > 0) throw new Error("bus unavailable");
          return publish(e);
        };
        d.deps.spend = {
          ...d.spend,
          releaseThreshold: async () => {
            throw new Error("store unavailable");
          },
        };
      },
    ],
    [
      "its claim committed but the answer was lost",
      (d: ReturnType<typeof deps>) => {
        let lost = 1;
        d.deps.spend = {
          ...d.spend,
          markThreshold: async (key: string, owner: string) => {
            const claimed = await d.spend.markThreshold(key, owner);
            if (lost-- > 0) throw new Error("socket hang up");
            return claimed;
          },
        };
      },
    ],
    [
      "the aggregator died between its claim and its PutEvents (nothing was given back)",
      (d: ReturnType<typeof deps>) => {
        const publish = d.deps.events.publish;
        let dies = 1;
        d.deps.events.publish = async (e) => {
          if (dies-- > 0) throw new Error("Runtime exited");
          return publish(e);
        };
        // A dead process releases nothing: the claim stays its event's, unpublished.
        d.deps.spend = { ...d.spend, releaseThreshold: async () => undefined };
      },
    ],
  ])("fires an alert on the event's redelivery when %s, and no other event steals it", async (_, fault) => {
    // The transport redelivers after the claim's lease has run out (SQS: its visibility timeout).
    const d = deps({ claimLeaseMs: 0 });
    fault(d);
    await expect(aggregateUsage(usage("a", 0.6), d.deps)).rejects.toThrow();
    expect(d.published).toEqual([]);
    // Another request crosses nothing new: the claim is still the first event's.
    await aggregateUsage(usage("b", 0.1), d.deps);
    expect(d.published).toEqual([]);
    await aggregateUsage(usage("a", 0.6), d.deps);
    await aggregateUsage(usage("a", 0.6), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1"]);
  });

  it("fires an alert once on a bus that delivers an id once, though a crash came between its event and its claim", async () => {
    const d = deps();
    const seen = new Set<string>();
    d.deps.events = {
      dedupesIds: true,
      publish: async (events: GatewayEvent[]) => {
        for (const e of events) if (!seen.has(e.id)) seen.add(e.id) && d.published.push(e);
      },
    };
    // The first claim never lands: what a kill right after the event's commit leaves.
    const markThreshold = d.spend.markThreshold;
    let crashes = 1;
    d.deps.spend = {
      ...d.spend,
      markThreshold: async (key: string, owner: string) => {
        if (crashes-- > 0) throw new Error("killed");
        return markThreshold(key, owner);
      },
    };
    await expect(aggregateUsage(usage("a", 0.6), d.deps)).rejects.toThrow("killed");
    expect(thresholds(d)).toEqual(["org:50:1"]);
    const redelivered = await aggregateUsage(usage("a", 0.6), d.deps);
    expect(redelivered.thresholds.map((t) => t.threshold)).toEqual([50]);
    await aggregateUsage(usage("b", 0.1), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1"]);
  });

  it.each([
    ["one event at a time", (u: unknown, d: AggregatorDeps) => aggregateUsage(u, d)],
    ["in batches", (u: unknown, d: AggregatorDeps) => aggregateUsageBatch([u], d)],
  ])(
    "settles the reservations a usage event names, once, where a budget store is given (%s)",
    async (_, deliver) => {
      const d = deps();
      const budgets = createSqliteBudgetStore(openDatabase(":memory:"));
      const counter = { scope: "org" as const, id: "acme", period: "day" as const, periodKey: "2026-11-26" };
      await budgets.reserve("r1", [{ counter, amountUsd: 0.5, limitUsd: 1 }]);
      await budgets.reserve("r1.billed-1", [{ counter, amountUsd: 0.1, limitUsd: 1 }]);
      d.deps.budgets = budgets;
      const event = usageOf("r1", {
        costUsd: 0.3,
        settlements: [
          { id: "r1", usd: 0.2 },
          { id: "r1.billed-1", usd: 0.1 },
        ],
      });
      await deliver(event, d.deps);
      await deliver(event, d.deps);
      expect(await budgets.spent(counter)).toBeCloseTo(0.3, 9);
    },
  );

  it("takes an event settling as many top-ups as its request had billed attempts", async () => {
    const d = deps();
    const settlements = Array.from({ length: 80 }, (_, i) => ({ id: `r1.billed-${i + 1}`, usd: 0.001 }));
    const result = await aggregateUsage(usageOf("r1", { costUsd: 0.08, settlements }), d.deps);
    expect(result.counted).toBe(true);
  });

  it("checks the lines of every day a batch spans, not only its latest event's", async () => {
    const d = deps();
    await aggregateUsageBatch(
      [
        usageOf("late", { costUsd: 0.6, time: "2026-11-25T23:59:59.000Z" }),
        usageOf("early", { costUsd: 0.01, time: "2026-11-26T00:00:01.000Z" }),
      ],
      d.deps,
    );
    expect(d.published.map((e) => `${e.detail.scope}:${e.detail.periodKey}:${e.detail.threshold}`)).toEqual([
      "org:2026-11-25:50",
    ]);
  });

  it.each([0.07, 0.11, 0.13, 0.22])(
    "fires the 80 percent line of a $%s limit when spend is exactly on it",
    async (limitUsd) => {
      const d = deps();
      d.budgets.org = [{ period: "day", limitUsd }];
      await aggregateUsage(usageOf("r1", { costUsd: Math.round(limitUsd * 0.8 * 1e9) / 1e9 }), d.deps);
      expect(d.published.filter((e) => e.detail.scope === "org").map((e) => e.detail.threshold)).toEqual([
        50, 80,
      ]);
    },
  );

  it("refuses a batch holding an invalid event, naming the field, before counting any of it", async () => {
    const d = deps();
    await expect(
      aggregateUsageBatch([usage("a", 0.1), { ...usage("b", 0.1), org: "" }], d.deps),
    ).rejects.toThrow(/org/);
    expect(await d.spend.periodSpend("org", "acme", "2026-11-26")).toBe(0);
  });

  it("fires 100 % once when the budget refuses a request, though the hard stop kept spend below it", async () => {
    for (const aggregate of [
      async (d: ReturnType<typeof deps>["deps"], events: unknown[]) => {
        for (const e of events) await aggregateUsage(e, d);
      },
      (d: ReturnType<typeof deps>["deps"], events: unknown[]) => aggregateUsageBatch(events, d),
    ]) {
      const d = deps();
      await aggregate(d.deps, [usage("a", 0.9), refused("b"), refused("c")]);
      await aggregate(d.deps, [refused("d"), refused("b")]);
      expect(thresholds(d)).toEqual(["org:50:1", "org:80:1", "org:100:1"]);
      expect(d.published[2]!.detail).toMatchObject({
        threshold: 100,
        spentUsd: 0.9,
        periodKey: "2026-11-26",
      });
    }
  });

  it("fires a refusal's lines at the limit it refused at, though the budget was removed before it was counted", async () => {
    const d = deps();
    d.budgets.org = [];
    await aggregateUsage(refused("a", 0.5), d.deps);
    expect(thresholds(d)).toEqual(["org:50:0.5", "org:80:0.5", "org:100:0.5"]);
  });

  it("fires the lines of every limit a batch's refusals refused at, as one event at a time does", async () => {
    // The limit was raised from $0.10 to $1 between the two refusals.
    const events = [refused("a", 0.1), refused("b", 1)];
    const one = deps();
    for (const e of events) await aggregateUsage(e, one.deps);
    const batch = deps();
    await aggregateUsageBatch(events, batch.deps);
    const org = (x: ReturnType<typeof deps>) =>
      thresholds(x)
        .filter((t) => t.startsWith("org:"))
        .sort();
    expect(org(one)).toEqual([
      "org:100:0.1",
      "org:100:1",
      "org:50:0.1",
      "org:50:1",
      "org:80:0.1",
      "org:80:1",
    ]);
    expect(org(batch)).toEqual(org(one));
  });

  it("fires nothing for an old refusal that names no limit, of a budget removed since", async () => {
    const d = deps();
    d.budgets.org = [];
    const old = refused("a") as { budgetRefused: Record<string, unknown> };
    delete old.budgetRefused.limitUsd;
    await aggregateUsage(old, d.deps);
    expect(d.published).toEqual([]);
  });

  it("judges a line of a limit in the millions to the nano-dollar: spend a nano-dollar short fires nothing", async () => {
    const d = deps();
    // 80 % of $8 000 000.000000004 is $6 400 000.0000000032; in doubles, a hundred times the spend and
    // 80 times the limit land on the same number.
    d.budgets.org = [{ period: "day", limitUsd: 8_000_000.000000004 }];
    await aggregateUsage(usage("a", 6_400_000.000000003), d.deps);
    expect(thresholds(d).filter((t) => t.startsWith("org:"))).toEqual(["org:50:8000000.000000004"]);
  });

  it("fires the thresholds of a raised limit again, at their new amounts, in the same period", async () => {
    const d = deps();
    await aggregateUsage(usage("a", 0.6), d.deps);
    d.budgets.org = [{ period: "day", limitUsd: 2 }];
    await aggregateUsage(usage("b", 0.5), d.deps);
    await aggregateUsage(usage("c", 0.6), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1", "org:50:2", "org:80:2"]);
  });

  it.each([
    ["one event at a time", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsage(u, d)],
    ["in batches", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsageBatch([u], d)],
  ])(
    "judges spend by the limit its request was admitted under too, though it was raised before the event was counted (%s)",
    async (_, deliver) => {
      const d = deps();
      const admitted = (requestId: string, costUsd: number, limitUsd: number) =>
        usageOf(requestId, {
          costUsd,
          budgetLimits: [{ scope: "org", id: "acme", period: "day", limitUsd }],
        });
      await deliver(admitted("a", 0.6, 1), d.deps);
      // The limit is raised the moment the spend reached it: its 80 and 100 % lines were still crossed.
      d.budgets.org = [{ period: "day", limitUsd: 5 }];
      await deliver(admitted("b", 0.4, 1), d.deps);
      await deliver(admitted("c", 2, 5), d.deps);
      expect(thresholds(d)).toEqual(["org:50:1", "org:80:1", "org:100:1", "org:50:5"]);
    },
  );

  const admittedUnder = (requestId: string, costUsd: number, limitUsd: number) =>
    usageOf(requestId, { costUsd, budgetLimits: [{ scope: "org", id: "acme", period: "day", limitUsd }] });

  it.each([
    ["one event at a time", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsage(u, d)],
    ["in batches", (u: unknown, d: ReturnType<typeof deps>["deps"]) => aggregateUsageBatch([u], d)],
  ])(
    "judges spend by the limit its request was admitted under, though the budget was removed before the event was counted (%s)",
    async (_, deliver) => {
      const d = deps();
      await deliver(admittedUnder("a", 0.4, 1), d.deps);
      d.budgets.org = [];
      await deliver(admittedUnder("b", 0.2, 1), d.deps);
      // Spend admitted after the removal crosses no line of the removed limit.
      await deliver(usage("c", 0.3), d.deps);
      await deliver(usage("d", 1), d.deps);
      expect(thresholds(d)).toEqual(["org:50:1"]);
    },
  );

  it("fires no line of an old limit for spend made after it was raised, nor of a limit since lowered", async () => {
    const raised = deps();
    raised.budgets.org = [{ period: "day", limitUsd: 5 }];
    await aggregateUsage(admittedUnder("a", 0.8, 5), raised.deps);
    // A long stream admitted under $1 before the raise, counted now: $0.81 crossed none of $1's lines.
    await aggregateUsage(admittedUnder("b", 0.01, 1), raised.deps);
    expect(thresholds(raised)).toEqual([]);
    const lowered = deps();
    lowered.budgets.org = [{ period: "day", limitUsd: 10 }];
    await aggregateUsage(admittedUnder("a", 4, 10), lowered.deps);
    lowered.budgets.org = [{ period: "day", limitUsd: 1 }];
    await aggregateUsage(admittedUnder("b", 2, 10), lowered.deps);
    expect(thresholds(lowered).filter((t) => t.startsWith("org"))).toEqual([
      "org:50:1",
      "org:80:1",
      "org:100:1",
    ]);
  });

  it("credits no admitted event of a batch with a crossing that spend admitted after a removal made", async () => {
    for (const deliver of [
      async (d: ReturnType<typeof deps>["deps"], events: unknown[]) => {
        for (const e of events) await aggregateUsage(e, d);
      },
      (d: ReturnType<typeof deps>["deps"], events: unknown[]) => aggregateUsageBatch(events, d),
    ]) {
      const d = deps();
      d.budgets.org = [];
      // a2: a long request admitted before the removal that finished after b, which came after it.
      await deliver(d.deps, [admittedUnder("a1", 0.3, 1), usage("b", 0.3), admittedUnder("a2", 0.01, 1)]);
      expect(thresholds(d)).toEqual([]);
    }
  });

  it("fires no old limit's line for spend counted after a redelivered event, whose place in the spend is gone", async () => {
    const d = deps();
    d.budgets.org = [];
    const publish = d.deps.events.publish;
    d.deps.events.publish = async () => {
      throw new Error("bus unavailable");
    };
    await expect(aggregateUsage(admittedUnder("a", 0.6, 1), d.deps)).rejects.toThrow("bus unavailable");
    d.deps.events.publish = publish;
    await aggregateUsage(usage("b", 0.5), d.deps);
    await aggregateUsage(admittedUnder("a", 0.6, 1), d.deps);
    expect(thresholds(d)).toEqual([]);
  });

  it("judges each limit a batch's events were admitted under by what those events spent", async () => {
    const d = deps();
    d.budgets.org = [{ period: "day", limitUsd: 5 }];
    await aggregateUsageBatch(
      [admittedUnder("a", 0.6, 1), admittedUnder("b", 0.4, 1), admittedUnder("c", 2, 5)],
      d.deps,
    );
    expect(thresholds(d).sort()).toEqual(["org:100:1", "org:50:1", "org:50:5", "org:80:1"]);
  });

  it("judges a refusal by the limit it refused at, though the budget was raised before it was counted", async () => {
    const d = deps();
    await aggregateUsage(usage("a", 0.05), d.deps);
    d.budgets.org = [{ period: "day", limitUsd: 0.1 }];
    await aggregateUsage(usage("b", 0.01), d.deps);
    d.budgets.org = [{ period: "day", limitUsd: 1 }];
    await aggregateUsage(refused("c", 0.1), d.deps);
    await aggregateUsage(usage("d", 0.9), d.deps);
    await aggregateUsage(refused("e", 1), d.deps);
    expect(thresholds(d)).toEqual([
      "org:50:0.1",
      "org:80:0.1",
      "org:100:0.1",
      "org:50:1",
      "org:80:1",
      "org:100:1",
    ]);
  });

  it("fires every line not fired yet when a budget refuses, in order: used up is past all of them", async () => {
    const d = deps();
    d.budgets.org = [{ period: "day", limitUsd: 0.03 }];
    for (const id of ["a", "b", "c"]) await aggregateUsage(usage(id, 0.0075), d.deps);
    // 75 %: the 50 % line only. The next request's worst case does not fit, so the budget is used up.
    expect(thresholds(d)).toEqual(["org:50:0.03"]);
    await aggregateUsage(refused("d", 0.03), d.deps);
    expect(thresholds(d)).toEqual(["org:50:0.03", "org:80:0.03", "org:100:0.03"]);
  });

  it("checks a budget lowered below the spend on its first refusal: every line it is past fires", async () => {
    const d = deps();
    d.budgets.org = [{ period: "day", limitUsd: 10 }];
    await aggregateUsage(usage("a", 1.95), d.deps);
    d.budgets.org = [{ period: "day", limitUsd: 1.5 }];
    await aggregateUsage(refused("b", 1.5), d.deps);
    expect(thresholds(d)).toEqual(["org:50:1.5", "org:80:1.5", "org:100:1.5"]);
  });
});
