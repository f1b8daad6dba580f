import { describe, expect, it } from "vitest";
import { counterFor, counterStorageKey, stampBudgets } from "../../../core/budgets/counters.ts";

const NOW = "2026-11-26T15:00:00.000Z";
const EARLIER = "2026-11-02T09:00:00.000Z";

describe("stampBudgets", () => {
  it.each([
    [
      "a budget the entry did not have gets now",
      [{ period: "month", limitUsd: 50 }],
      undefined,
      [{ period: "month", limitUsd: 50, since: NOW }],
    ],
    [
      "a budget of a period the entry had keeps its since, whatever its new limit",
      [{ period: "month", limitUsd: 80 }],
      [{ period: "month", limitUsd: 50, since: EARLIER }],
      [{ period: "month", limitUsd: 80, since: EARLIER }],
    ],
    [
      "a budget stored before stamps existed stays without one",
      [{ period: "day", limitUsd: 5 }],
      [{ period: "day", limitUsd: 5 }],
      [{ period: "day", limitUsd: 5 }],
    ],
    [
      "a caller's own since counts for nothing",
      [{ period: "day", limitUsd: 5, since: "2020-01-01T00:00:00.000Z" }],
      [],
      [{ period: "day", limitUsd: 5, since: NOW }],
    ],
    [
      "a period replaced by the other is new",
      [{ period: "day", limitUsd: 5 }],
      [{ period: "month", limitUsd: 50, since: EARLIER }],
      [{ period: "day", limitUsd: 5, since: NOW }],
    ],
  ] as const)("%s", (_, next, previous, expected) => {
    expect(stampBudgets(next, previous, NOW)).toEqual(expected);
  });

  it("leaves an entry without budgets without them", () => {
    expect(stampBudgets(undefined, [{ period: "day", limitUsd: 5, since: EARLIER }], NOW)).toBeUndefined();
  });
});

describe("counterFor", () => {
  const at = Date.parse(NOW);

  it("is the period's own counter for a budget added within it", () => {
    const c = counterFor("org", "acme", { period: "month", since: EARLIER }, at);
    expect(c).toEqual({ scope: "org", id: "acme", period: "month", periodKey: "2026-11", epoch: EARLIER });
    expect(counterStorageKey(c)).toBe(`2026-11@${EARLIER}`);
  });

  it.each([
    ["added in an earlier period", { period: "day", since: EARLIER } as const, "2026-11-26"],
    ["stored before stamps existed", { period: "month" } as const, "2026-11"],
  ])("is the plain period counter for a budget %s", (_, budget, key) => {
    const c = counterFor("key", "k1", budget, at);
    expect(c).not.toHaveProperty("epoch");
    expect(counterStorageKey(c)).toBe(key);
  });
});
