import { describe, expect, it } from "vitest";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { usage } from "../../fixtures/usage.ts";

const everything = { from: "2026-01-01", to: "2026-12-31" };
const events = [
  usage("r1"),
  usage("r2", { costUsd: 0.25, keyId: "k2" }),
  usage("r3", { providerModel: "gpt-4o-mini", time: "2026-11-27T08:00:00.000Z" }),
  usage("r1", { costUsd: 9 }),
  usage("r4", { org: "globex", keyId: "k9", costUsd: 1.5 }),
];

describe("SQLite spend store: a batch", () => {
  it("lands exactly as the same events recorded one by one, a repeated request id counting once", async () => {
    const single = createSqliteSpendStore(openDatabase(":memory:"));
    const batch = createSqliteSpendStore(openDatabase(":memory:"));
    const one = [];
    for (const e of events) one.push(await single.record(e));
    expect(await batch.recordMany!(events)).toEqual(one);
    expect(one).toEqual([true, true, true, false, true]);
    expect(await batch.query(everything)).toEqual(await single.query(everything));
    for (const [scope, id, period] of [
      ["org", "acme", "2026-11"],
      ["org", "acme", "2026-11-27"],
      ["key", "k2", "2026-11-26"],
      ["org", "globex", "2026-11"],
    ] as const)
      expect(await batch.periodSpend(scope, id, period)).toBe(await single.periodSpend(scope, id, period));
  });

  it("adds nothing for events recorded before", async () => {
    const store = createSqliteSpendStore(openDatabase(":memory:"));
    await store.recordMany!(events);
    const before = await store.query(everything);
    expect(await store.recordMany!(events)).toEqual([false, false, false, false, false]);
    expect(await store.query(everything)).toEqual(before);
  });
});
