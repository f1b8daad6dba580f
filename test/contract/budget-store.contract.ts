import { beforeEach, describe, expect, it } from "vitest";
import type { BudgetStore, CounterRef, CounterSeed, ReserveItem } from "../../core/budgets/port.ts";

/**
 * Stores over one fresh, shared storage: `storeOf(region, client, seed)` is an independent store
 * instance (its own client or connection, `client` picks which) writing as `region`, seeding new
 * counters with `seed` when given.
 */
export type BudgetStorage = (region: string, client: number, seed?: CounterSeed) => BudgetStore;

const org: CounterRef = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" };
const orgMonth: CounterRef = { scope: "org", id: "acme", period: "month", periodKey: "2026-11" };
const keyDay: CounterRef = { scope: "key", id: "k1", period: "day", periodKey: "2026-11-26" };
const item = (counter: CounterRef, amountUsd: number, limitUsd: number): ReserveItem => ({
  counter,
  amountUsd,
  limitUsd,
});

/** The BudgetStore contract; `clients` is how many independent clients `storeOf` can hand out. */
export function budgetStoreContract(
  name: string,
  makeStorage: () => Promise<BudgetStorage>,
  clients: number,
): void {
  describe(`BudgetStore contract: ${name}`, () => {
    let storeOf: BudgetStorage;
    let store: BudgetStore;
    beforeEach(async () => {
      storeOf = await makeStorage();
      store = storeOf("eu-west-1", 0);
    });

    it("lets exactly 50 of 200 concurrent $0.10 reserves through a $5.00 limit, from several clients", async () => {
      const stores = Array.from({ length: clients }, (_, c) => storeOf("eu-west-1", c));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => stores[i % clients]!.reserve(`r-${i}`, [item(org, 0.1, 5)])),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      for (const r of results)
        if (!r.ok) {
          expect(r.counter).toEqual(org);
          expect(r.limitUsd).toBe(5);
          expect(r.spentUsd).toBeGreaterThan(4.9);
          expect(r.spentUsd).toBeLessThanOrEqual(5);
        }
      for (const s of stores) expect(await s.spent(org)).toBe(5);
    }, 60_000);

    it("counts requests cheaper than a micro-dollar: 21 settled at $0.0000002 add $0.0000042", async () => {
      for (let i = 0; i < 21; i++) {
        expect(await store.reserve(`tiny-${i}`, [item(org, 0.001, 5)])).toEqual({ ok: true });
        await store.settle(`tiny-${i}`, 0.0000002);
      }
      expect(await store.spent(org)).toBe(0.0000042);
      // A limit of a few nano-dollars over what is spent holds exactly too.
      expect((await store.reserve("tiny-x", [item(org, 0.0000002, 0.0000043)])).ok).toBe(false);
      expect(await store.reserve("tiny-y", [item(org, 0.0000001, 0.0000043)])).toEqual({ ok: true });
    });

    it("keeps cent amounts exact: ten $0.07 fill a $0.70 limit, the eleventh is refused", async () => {
      for (let i = 0; i < 10; i++)
        expect(await store.reserve(`r-${i}`, [item(org, 0.07, 0.7)])).toEqual({ ok: true });
      expect(await store.reserve("r-10", [item(org, 0.07, 0.7)])).toEqual({
        ok: false,
        counter: org,
        spentUsd: 0.7,
        limitUsd: 0.7,
      });
      expect(await store.spent(org)).toBe(0.7);
    });

    it("refuses an amount larger than the whole limit and counts nothing", async () => {
      expect(await store.reserve("big", [item(org, 2, 1)])).toMatchObject({ ok: false, spentUsd: 0 });
      expect(await store.spent(org)).toBe(0);
    });

    it("is idempotent per request id, also when the retry would no longer fit", async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, c) =>
          storeOf("eu-west-1", c % clients).reserve("r1", [item(org, 4, 5)]),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(await store.spent(org)).toBe(4);
      expect(await store.reserve("r2", [item(org, 1, 5)])).toEqual({ ok: true });
      expect(await store.reserve("r1", [item(org, 4, 5)])).toEqual({ ok: true });
      expect(await store.spent(org)).toBe(5);
    });

    it("settles to the actual cost once: redelivered and concurrent settles are no-ops", async () => {
      await store.reserve("r1", [item(org, 1, 5)]);
      await store.settle("r1", 0.25);
      expect(await store.spent(org)).toBe(0.25);
      await store.settle("r1", 0.1);
      expect(await store.spent(org)).toBe(0.25);
      await store.reserve("r2", [item(org, 2, 5)]);
      await Promise.all(
        Array.from({ length: 5 }, (_, c) => storeOf("eu-west-1", c % clients).settle("r2", 0.5)),
      );
      expect(await store.spent(org)).toBe(0.75);
      await store.settle("unknown", 3);
      expect(await store.spent(org)).toBe(0.75);
    });

    it("frees the unused part of a reservation for later requests", async () => {
      expect((await store.reserve("r1", [item(org, 5, 5)])).ok).toBe(true);
      expect((await store.reserve("r2", [item(org, 1, 5)])).ok).toBe(false);
      await store.settle("r1", 4);
      expect((await store.reserve("r2", [item(org, 1, 5)])).ok).toBe(true);
      expect(await store.spent(org)).toBe(5);
    });

    it("settles above the reservation when a request cost more, and refuses later requests on it", async () => {
      expect((await store.reserve("r1", [item(org, 1, 5)])).ok).toBe(true);
      await store.settle("r1", 6);
      expect(await store.spent(org)).toBe(6);
      expect((await store.reserve("r2", [item(org, 0.01, 5)])).ok).toBe(false);
    });

    it("reserves org and key counters all or nothing, and settles both", async () => {
      expect((await store.reserve("r1", [item(org, 0.8, 10), item(keyDay, 0.8, 1)])).ok).toBe(true);
      expect(await store.reserve("r2", [item(org, 0.8, 10), item(keyDay, 0.8, 1)])).toEqual({
        ok: false,
        counter: keyDay,
        spentUsd: 0.8,
        limitUsd: 1,
      });
      expect([await store.spent(org), await store.spent(keyDay)]).toEqual([0.8, 0.8]);
      await store.settle("r1", 0.5);
      expect([await store.spent(org), await store.spent(keyDay)]).toEqual([0.5, 0.5]);
      expect((await store.reserve("r3", [item(org, 0.5, 10), item(keyDay, 0.5, 1)])).ok).toBe(true);
    });

    it("starts a counter's first reservation from the period's earlier spend, seeded once under concurrency", async () => {
      let asked = 0;
      const seed: CounterSeed = async (c) => {
        asked++;
        return c.period === "month" ? 4.5 : 0;
      };
      const stores = Array.from({ length: clients }, (_, c) => storeOf("eu-west-1", c, seed));
      // $4.50 already spent this month, as the aggregator counted it: 5 of 20 × $0.10 fit in $5.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % clients]!.reserve(`s-${i}`, [item(orgMonth, 0.1, 5)]),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(await store.spent(orgMonth)).toBeCloseTo(5, 9);
      // A later reservation (settled below its amount) does not seed again.
      const before = asked;
      const first = results.findIndex((r) => r.ok);
      await stores[0]!.settle(`s-${first}`, 0.05);
      expect(await stores[0]!.reserve("s-late", [item(orgMonth, 0.05, 5)])).toEqual({ ok: true });
      expect(await store.spent(orgMonth)).toBeCloseTo(5, 9);
      expect(asked - before).toBeLessThanOrEqual(1);
    }, 60_000);

    it("refuses a first reservation that found no earlier spend when another seeded the counter meanwhile", async () => {
      // The aggregator counts $0.50 spent before the budget existed between the two first reservations'
      // looks at the period's spend: the first to look saw none, and commits last.
      let counted!: () => void;
      const aggregatorCounted = new Promise<void>((r) => {
        counted = r;
      });
      const early = storeOf("eu-west-1", 0, async () => {
        await aggregatorCounted;
        return 0;
      });
      const late = storeOf("eu-west-1", clients - 1, async () => 0.5);
      const first = early.reserve("seedless", [item(orgMonth, 0.4, 1)]);
      // Its look at the period's spend has begun (it waits on the gate) before the other's starts.
      await new Promise((r) => setTimeout(r, 50));
      expect(await late.reserve("seeded", [item(orgMonth, 0.4, 1)])).toEqual({ ok: true });
      counted();
      // $0.50 + $0.40 + $0.40 would pass the $1 limit.
      expect((await first).ok).toBe(false);
      expect(await store.spent(orgMonth)).toBeCloseTo(0.9, 9);
    });

    it("seeds the counter from a first reservation that found earlier spend, though one that found none committed first", async () => {
      // Both look while the counter is empty. The first finds nothing; the aggregator then counts $0.50
      // spent before the budget existed, which the second finds; the first commits before the second.
      let secondLooked!: () => void;
      const looking = new Promise<void>((r) => {
        secondLooked = r;
      });
      let counted!: () => void;
      const aggregatorCounted = new Promise<void>((r) => {
        counted = r;
      });
      const findsNone = storeOf("eu-west-1", 0, async () => {
        await looking;
        return 0;
      });
      const findsSome = storeOf("eu-west-1", clients - 1, async () => {
        secondLooked();
        await aggregatorCounted;
        return 0.5;
      });
      const first = findsNone.reserve("found-none", [item(orgMonth, 0.4, 1)]);
      const second = findsSome.reserve("found-some", [item(orgMonth, 0.4, 1)]);
      expect(await first).toEqual({ ok: true });
      counted();
      // $0.50 + $0.40 + $0.40 would pass the $1 limit.
      expect((await second).ok).toBe(false);
      expect(await store.spent(orgMonth)).toBeCloseTo(0.9, 9);
      expect((await store.reserve("after", [item(orgMonth, 0.2, 1)])).ok).toBe(false);
    });

    it("does not seed a counter that already has reservations in its period", async () => {
      expect((await store.reserve("early", [item(org, 0.1, 5)])).ok).toBe(true);
      const seeded = storeOf("eu-west-1", 0, async () => 100);
      expect((await seeded.reserve("later", [item(org, 0.1, 5)])).ok).toBe(true);
      expect(await store.spent(org)).toBeCloseTo(0.2, 9);
    });

    it("keeps a budget added again apart from its old counter, and seeds it from the period's spend", async () => {
      // $1 under the budget first added; then it was removed, $3 more spent, and it is back.
      expect((await store.reserve("first", [item(orgMonth, 1, 5)])).ok).toBe(true);
      const asked: CounterRef[] = [];
      const aggregator: CounterSeed = async (c) => {
        asked.push(c);
        return 4;
      };
      const again = { ...orgMonth, epoch: "2026-11-26T15:00:00.000Z" };
      const seeded = storeOf("eu-west-1", 0, aggregator);
      expect((await seeded.reserve("back-1", [item(again, 0.6, 5)])).ok).toBe(true);
      expect(await seeded.reserve("back-2", [item(again, 0.6, 5)])).toEqual({
        ok: false,
        counter: again,
        spentUsd: 4.6,
        limitUsd: 5,
      });
      // The aggregator is asked for the period's total, whatever the epoch; the old counter is untouched.
      expect(asked.map((c) => c.periodKey)).toEqual(["2026-11"]);
      expect(await store.spent(orgMonth)).toBe(1);
      await seeded.settle("back-1", 0.5);
      expect(await store.spent(again)).toBeCloseTo(4.5, 9);
    });

    it("keeps counters apart by scope, id and period", async () => {
      await store.reserve("r1", [item(org, 1, 5), item(orgMonth, 1, 50)]);
      await store.reserve("r2", [item({ ...org, periodKey: "2026-11-27" }, 2, 5)]);
      await store.reserve("r3", [item({ ...keyDay, id: "acme" }, 3, 5)]);
      expect(await store.spent(org)).toBe(1);
      expect(await store.spent(orgMonth)).toBe(1);
      expect(await store.spent({ ...org, periodKey: "2026-11-27" })).toBe(2);
      expect(await store.spent({ ...keyDay, id: "acme" })).toBe(3);
      expect(await store.spent({ ...org, id: "nobody" })).toBe(0);
    });

    it("enforces one limit over two regions' counters", async () => {
      const eu = storeOf("eu-west-1", 0);
      const us = storeOf("us-east-1", clients - 1);
      expect((await eu.reserve("r1", [item(org, 0.6, 1)])).ok).toBe(true);
      expect(await us.reserve("r2", [item(org, 0.6, 1)])).toEqual({
        ok: false,
        counter: org,
        spentUsd: 0.6,
        limitUsd: 1,
      });
      expect((await us.reserve("r3", [item(org, 0.4, 1)])).ok).toBe(true);
      expect((await eu.reserve("r4", [item(org, 0.01, 1)])).ok).toBe(false);
      expect([await eu.spent(org), await us.spent(org)]).toEqual([1, 1]);
      // Settling in the other region lands in that region's counter; the sum is what counts.
      await us.settle("r1", 0.1);
      expect([await eu.spent(org), await us.spent(org)]).toEqual([0.5, 0.5]);
      expect((await eu.reserve("r5", [item(org, 0.5, 1)])).ok).toBe(true);
    });

    it("holds one limit when two regions sharing the table reserve at the same time", async () => {
      const eu = storeOf("eu-west-1", 0);
      const us = storeOf("us-east-1", clients - 1);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? eu : us).reserve(`race-${i}`, [item(org, 0.1, 1)])),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      expect(await us.spent(org)).toBeCloseTo(1, 9);
    });
  });
}
