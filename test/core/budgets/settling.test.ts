import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { reserveAfterSettlements, trackSettlement } from "../../../core/budgets/settling.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const counter = { scope: "org" as const, id: "acme", period: "day" as const, periodKey: "2026-11-27" };
/** One reservation of $1 fits beside $0.50 of spend: a budget of $1.50. */
const items = [{ counter, amountUsd: 1, limitUsd: 1.5 }];

async function storeWithOpenReservation() {
  const store = createSqliteBudgetStore(openDatabase(":memory:"));
  expect(await store.reserve("first", items)).toEqual({ ok: true });
  return store;
}

describe("reserveAfterSettlements", () => {
  it("admits a request a settlement under way makes room for, once it is made", async () => {
    const store = await storeWithOpenReservation();
    // The settlement of the request before, still waiting for its usage event when this one comes.
    trackSettlement(
      store,
      sleep(20).then(() => store.settle("first", 0.1)),
    );
    expect(await reserveAfterSettlements(store, "second", items)).toEqual({ ok: true });
    expect(await store.spent(counter)).toBeCloseTo(1.1, 9);
  });

  it("refuses at once when no settlement is under way", async () => {
    const store = await storeWithOpenReservation();
    const started = performance.now();
    expect(await reserveAfterSettlements(store, "second", items)).toMatchObject({ ok: false, spentUsd: 1 });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("refuses still when the settlement leaves too little room", async () => {
    const store = await storeWithOpenReservation();
    trackSettlement(store, store.settle("first", 0.9));
    expect(await reserveAfterSettlements(store, "second", items)).toMatchObject({ ok: false, spentUsd: 0.9 });
  });

  it("waits a bounded time for a settlement that hangs, then answers from the counter as it stands", async () => {
    const store = await storeWithOpenReservation();
    trackSettlement(store, new Promise(() => {}));
    const started = performance.now();
    expect(await reserveAfterSettlements(store, "second", items)).toMatchObject({ ok: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("refuses at once a request too large for the whole limit, which no settlement can make room for", async () => {
    const store = await storeWithOpenReservation();
    trackSettlement(store, new Promise(() => {}));
    const started = performance.now();
    const huge = [{ counter, amountUsd: 2, limitUsd: 1.5 }];
    expect(await reserveAfterSettlements(store, "second", huge)).toMatchObject({ ok: false });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("forgets a settlement that failed: the aggregator's redelivery makes it", async () => {
    const store = await storeWithOpenReservation();
    trackSettlement(store, Promise.reject(new Error("store down")));
    await sleep(0);
    const started = performance.now();
    expect(await reserveAfterSettlements(store, "second", items)).toMatchObject({ ok: false });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
