import type { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { counterFor } from "../../../core/budgets/counters.ts";
import { parseConfig } from "../../../core/config/parse.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import type { Log } from "../../../core/log.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { createPortableSpend } from "../../../functions/local/spend.ts";
import { reservedFor } from "../../fixtures/reserved-for.ts";
import { usage } from "../../fixtures/usage.ts";

const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** The usage event of request `id`, as the router publishes it. */
const usageEvent = (id: string, fields: Parameters<typeof usage>[1] & { time: string }) => ({
  id,
  source: "llm-gateway",
  detailType: "llm.usage",
  detail: { ...usage(id, fields) },
  time: fields.time,
});

/** A database with org acme's daily $1 budget, and the spend machinery a start builds on it. */
async function portableOn(db: DatabaseSync) {
  const registry = createSqliteRegistryStore(db);
  await registry.applyConfig(
    parseConfig({ orgs: [{ id: "acme", budgets: [{ period: "day", limitUsd: 1 }] }] }),
  );
  const budget = (await registry.get("org", "acme"))!.doc.budgets![0]!;
  return { portable: createPortableSpend(db, registry, createSqliteKeyStore(db), quiet, undefined), budget };
}

describe("portable mode's spend machinery", () => {
  it("writes an alert's event before its claim, so a crash between the two leaves it written, and once", async () => {
    const db = openDatabase(":memory:");
    const registry = createSqliteRegistryStore(db);
    await registry.applyConfig(
      parseConfig({ orgs: [{ id: "acme", budgets: [{ period: "day", limitUsd: 1 }] }] }),
    );
    const portable = createPortableSpend(db, registry, createSqliteKeyStore(db), quiet, undefined);
    // What a kill right after the alert's event was written leaves: its claim is never made, once.
    db.exec(`CREATE TABLE crash_once (n INTEGER); INSERT INTO crash_once VALUES (1);
      CREATE TRIGGER crash BEFORE INSERT ON spend_thresholds WHEN (SELECT count(*) FROM crash_once) > 0
      BEGIN SELECT RAISE(ABORT, 'killed'); END;`);
    portable.bus.start();
    const at = { time: new Date().toISOString() };
    await portable.bus.publish([usageEvent("r1", { costUsd: 0.6, ...at })]);
    const alerts = () =>
      (
        db.prepare("SELECT id FROM event_outbox WHERE detail_type = 'budget.threshold'").all() as Array<{
          id: string;
        }>
      ).map((r) => r.id);
    // The claim failed, so the usage event comes back; its alert is already in the outbox.
    await expect.poll(() => alerts().length).toBe(1);
    db.exec("DELETE FROM crash_once");
    expect(await portable.bus.drain(10_000)).toBe(true);
    expect(alerts()).toHaveLength(1);
    expect(db.prepare("SELECT count(*) AS n FROM spend_thresholds").get()).toEqual({ n: 1 });
    await portable.bus.stop();
  });

  it("settles a reservation its router could not settle, when the request's usage event is delivered", async () => {
    const db = openDatabase(":memory:");
    const { portable, budget } = await portableOn(db);
    const now = Date.now();
    const counter = counterFor("org", "acme", budget, now);
    // Reserved, then the router's own settle failed (another process held the write lock): the counter
    // holds the worst case, and the usage event names the settlement.
    await portable.budgets.reserve("r1", [{ counter, amountUsd: 0.5, limitUsd: 1 }], reservedFor("r1", now));
    // One that does not say whose it is (written before reservations did) is no start's to charge.
    await portable.budgets.reserve("r0", [{ counter, amountUsd: 0.01, limitUsd: 1 }]);
    expect(portable.budgets.unsettled()).toEqual([
      { id: "r1", amountUsd: 0.5, reservedFor: reservedFor("r1", now) },
    ]);
    portable.bus.start();
    const time = new Date(now).toISOString();
    await portable.bus.publish([
      usageEvent("r1", { costUsd: 0.1, time, settlements: [{ id: "r1", usd: 0.1 }] }),
    ]);
    expect(await portable.bus.drain(10_000)).toBe(true);
    expect(await portable.budgets.spent(counter)).toBeCloseTo(0.11, 9);
    expect(portable.budgets.unsettled()).toEqual([]);
    await portable.bus.stop();
  });

  describe("at start-up, the reservations of requests a stopped process never finished", () => {
    /** A process that reserved $0.30 for request r1 against acme's daily budget, then stopped. */
    async function leftReserved() {
      const db = openDatabase(":memory:");
      const before = await portableOn(db);
      const now = Date.now();
      const counter = counterFor("org", "acme", before.budget, now);
      await before.portable.budgets.reserve(
        "r1",
        [{ counter, amountUsd: 0.3, limitUsd: 1 }],
        reservedFor("r1", now),
      );
      return { db, before, now, counter };
    }

    it("are charged at what they reserved, so the spend report, the counter and the alerts agree", async () => {
      const db = openDatabase(":memory:");
      const before = await portableOn(db);
      const now = Date.now();
      const counter = counterFor("org", "acme", before.budget, now);
      const items = [{ counter, amountUsd: 0.3, limitUsd: 1 }];
      await before.portable.budgets.reserve("r1", items, reservedFor("r1", now));
      await before.portable.budgets.reserve("r1.billed-1", items, reservedFor("r1", now));
      // A hard kill here: nothing settles them. The next start charges the request, for /metrics too:
      const { portable } = await portableOn(db);
      expect(await portable.chargeInterrupted()).toEqual([
        expect.objectContaining({ requestId: "r1", org: "acme", keyId: "k1", costUsd: 0.6 }),
      ]);
      portable.bus.start();
      expect(await portable.bus.drain(10_000)).toBe(true);
      expect(await portable.budgets.spent(counter)).toBeCloseTo(0.6, 9);
      expect(await portable.spend.periodSpend("org", "acme", counter.periodKey)).toBeCloseTo(0.6, 9);
      expect(portable.budgets.unsettled()).toEqual([]);
      // 50 % crossed: its alert went out, from spend the report shows.
      const alerts = db
        .prepare("SELECT detail FROM event_outbox WHERE detail_type = 'budget.threshold'")
        .all() as Array<{ detail: string }>;
      expect(alerts.map((a) => JSON.parse(a.detail).threshold)).toEqual([50]);
      await portable.bus.stop();
    });

    it("leave a row that cannot be read as it is, and say so, rather than stop the start", async () => {
      const db = openDatabase(":memory:");
      await portableOn(db);
      db.prepare(
        "INSERT INTO budget_reservations (request_id, items, reserved_for) VALUES ('bad', '[]', '{not json')",
      ).run();
      const errors: string[] = [];
      const registry = createSqliteRegistryStore(db);
      const portable = createPortableSpend(
        db,
        registry,
        createSqliteKeyStore(db),
        { ...quiet, error: (_m, f) => void errors.push(String(f?.id)) },
        undefined,
      );
      await portable.chargeInterrupted();
      expect(errors).toEqual(["bad"]);
    });

    it("are handed to the start before their charges are written, so a start that fails there finds them again", async () => {
      const { db } = await leftReserved();
      const first = (await portableOn(db)).portable;
      const handed: string[] = [];
      await expect(
        first.chargeInterrupted(async (charges) => {
          handed.push(...charges.map((c) => c.requestId));
          throw new Error("audit queue down");
        }),
      ).rejects.toThrow("audit queue down");
      expect(handed).toEqual(["r1"]);
      // Nothing was written: the next start charges them, and hands them over again.
      const { portable } = await portableOn(db);
      expect((await portable.chargeInterrupted()).map((c) => c.requestId)).toEqual(["r1"]);
    });

    it("are charged once, however many starts find them", async () => {
      const { db, counter } = await leftReserved();
      // Two starts, each stopped before its bus delivered anything: the first counted it in /metrics.
      expect(await (await portableOn(db)).portable.chargeInterrupted()).toHaveLength(1);
      const { portable } = await portableOn(db);
      expect(await portable.chargeInterrupted()).toEqual([]);
      portable.bus.start();
      expect(await portable.bus.drain(10_000)).toBe(true);
      expect(await portable.spend.periodSpend("org", "acme", counter.periodKey)).toBeCloseTo(0.3, 9);
      expect(await portable.budgets.spent(counter)).toBeCloseTo(0.3, 9);
      await portable.bus.stop();
    });

    it("are settled by the request's own usage event when it was written before the stop", async () => {
      const { db, before, now, counter } = await leftReserved();
      const time = new Date(now).toISOString();
      await before.portable.bus.publish([
        usageEvent("r1", { costUsd: 0.02, time, settlements: [{ id: "r1", usd: 0.02 }] }),
      ]);
      const { portable } = await portableOn(db);
      // Nothing for /metrics: the request's own event charges it (and its process observed it).
      expect(await portable.chargeInterrupted()).toEqual([]);
      portable.bus.start();
      expect(await portable.bus.drain(10_000)).toBe(true);
      expect(await portable.spend.periodSpend("org", "acme", counter.periodKey)).toBeCloseTo(0.02, 9);
      expect(await portable.budgets.spent(counter)).toBeCloseTo(0.02, 9);
      await portable.bus.stop();
    });
  });
  it("seeds a budget's first reservation with spend whose usage event was published just before", async () => {
    const db = openDatabase(":memory:");
    const { portable, budget } = await portableOn(db);
    const now = Date.now();
    portable.bus.start();
    const time = new Date(now).toISOString();
    // Published, and not yet handed to the aggregator (deliveries wait a moment to go in batches).
    await portable.bus.publish([usageEvent("r1", { costUsd: 0.6, time })]);
    const counter = counterFor("org", "acme", budget, now);
    // $0.60 spent, so $0.50 more does not fit the $1 budget.
    expect(
      await portable.budgets.reserve(
        "r2",
        [{ counter, amountUsd: 0.5, limitUsd: 1 }],
        reservedFor("r2", now),
      ),
    ).toMatchObject({ ok: false, spentUsd: 0.6 });
    await portable.bus.stop();
  });
});
