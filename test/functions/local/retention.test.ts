import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import { parseConfig } from "../../../core/config/parse.ts";
import { createSqliteBus } from "../../../core/events/sqlite-bus.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { createRequestIds } from "../../../functions/local/request-id.ts";
import { RETENTION, startRetention, sweep } from "../../../functions/local/retention.ts";
import { createPortableSpend } from "../../../functions/local/spend.ts";
import { memoryLog } from "../../core/events/sqlite-bus-harness.ts";
import { reservedFor } from "../../fixtures/reserved-for.ts";
import { usage } from "../../fixtures/usage.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-11-26T12:00:00.000Z");
const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" } as const;
const count = (db: ReturnType<typeof openDatabase>, table: string) =>
  Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);

/** Portable mode's stores over one database, with ids made `ageMs` before NOW. */
async function fill(ageMs: number, n: number, stores: ReturnType<typeof storesOf>) {
  const ids = createRequestIds(() => NOW - ageMs);
  for (let i = 0; i < n; i++) {
    const id = ids();
    await stores.budgets.reserve(id, [{ counter, amountUsd: 0.01, limitUsd: 1_000 }]);
    await stores.budgets.settle(id, 0.005);
    await stores.spend.record(usage(id, { costUsd: 0.005 }));
    await stores.bus.publish([
      {
        id,
        source: "llm-gateway",
        detailType: "llm.usage",
        detail: {},
        time: new Date(NOW - ageMs).toISOString(),
      },
    ]);
  }
}

/** What portable mode sweeps (functions/local/deps.ts). */
const targets = (stores: Pick<ReturnType<typeof storesOf>, "bus" | "budgets" | "spend">) => ({
  events: stores.bus,
  reservations: stores.budgets,
  processed: stores.spend,
  claims: { prune: (before: string, limit: number) => stores.spend.pruneClaims(before, limit) },
});

function storesOf(db: ReturnType<typeof openDatabase>) {
  const bus = createSqliteBus(db, {
    subscriptions: [{ name: "sink", pattern: { source: ["llm-gateway"] }, handle: async () => {} }],
    region: "local",
    account: "000000000000",
    log: memoryLog().log,
  });
  return { bus, budgets: createSqliteBudgetStore(db), spend: createSqliteSpendStore(db) };
}

describe("retention sweep", () => {
  it("deletes delivered events past a day and request records past two, in pages, keeping the rest", async () => {
    const db = openDatabase(":memory:");
    const stores = storesOf(db);
    await fill(3 * DAY, 1_200, stores);
    await fill(RETENTION.eventsMs + 60_000, 5, stores);
    await fill(RETENTION.eventsMs - 60_000, 5, stores);
    // An old reservation never settled: a request a stopped process never finished, which a start
    // charges (interrupted.ts). It stays; one from before reservations said whose they are goes.
    const old = createRequestIds(() => NOW - 3 * DAY);
    const unsettled = old();
    await stores.budgets.reserve(
      unsettled,
      [{ counter, amountUsd: 0.01, limitUsd: 1_000 }],
      reservedFor(unsettled, NOW - 3 * DAY),
    );
    await stores.budgets.reserve(old(), [{ counter, amountUsd: 0.01, limitUsd: 1_000 }]);
    // Threshold claims: two taken 70 days ago, one yesterday.
    for (const key of ["old-50", "old-80", "new-50"]) await stores.spend.markThreshold(key, "r");
    const takenAt = db.prepare("UPDATE spend_thresholds SET claimed_at = ? WHERE key LIKE ?");
    takenAt.run(NOW - 70 * DAY, "old-%");
    takenAt.run(NOW - DAY, "new-%");
    stores.bus.start();
    expect(await stores.bus.drain(10_000)).toBe(true);
    const spentBefore = await stores.budgets.spent(counter);

    expect(await sweep(targets(stores), NOW)).toEqual({
      events: 1_205,
      reservations: 1_201,
      processed: 1_200,
      claims: 2,
    });
    expect([
      count(db, "event_outbox"),
      count(db, "budget_reservations"),
      count(db, "spend_processed"),
      count(db, "spend_thresholds"),
    ]).toEqual([5, 11, 10, 1]);
    // Counters and rollups keep every amount: only idempotency records went.
    expect(await stores.budgets.spent(counter)).toBe(spentBefore);
    await stores.bus.stop();
  }, 30_000);
});

describe("retention and redelivery", () => {
  it("keeps the marker of an event the bus may still deliver again, however old: it is counted once", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "retention-")), "gateway.sqlite");
    const now = Date.now();
    const id = createRequestIds(() => now)();
    const time = new Date(now).toISOString();
    const portableOn = async (db: DatabaseSync) => {
      const registry = createSqliteRegistryStore(db);
      await registry.applyConfig(
        parseConfig({ orgs: [{ id: "acme", budgets: [{ period: "day", limitUsd: 1 }] }] }),
      );
      return createPortableSpend(db, registry, createSqliteKeyStore(db), memoryLog().log, undefined);
    };
    // The aggregator counts the event, then its alert's claim fails (a lock held elsewhere, say): the
    // delivery is left to retry. The gateway stops.
    const first = openDatabase(file);
    const before = await portableOn(first);
    first.exec(
      "CREATE TRIGGER fail BEFORE INSERT ON spend_thresholds BEGIN SELECT RAISE(ABORT, 'busy'); END",
    );
    before.bus.start();
    await before.bus.publish([
      {
        id,
        source: "llm-gateway",
        detailType: "llm.usage",
        detail: { ...usage(id, { costUsd: 0.6, time }) },
        time,
      },
    ]);
    const retrying = () => count(first, "event_deliveries WHERE status = 'retrying'");
    await expect.poll(retrying).toBe(1);
    await before.bus.stop();
    first.exec("DROP TRIGGER fail");
    first.close();
    // It starts again two days later: the start's sweep runs, then the bus retries the event.
    const second = openDatabase(file);
    const after = await portableOn(second);
    await sweep(targets(after), now + 49 * 3_600_000);
    after.bus.start();
    expect(await after.bus.drain(10_000)).toBe(true);
    expect(await after.spend.periodSpend("org", "acme", time.slice(0, 10))).toBeCloseTo(0.6, 9);
    await after.bus.stop();
    second.close();
  }, 30_000);
});

describe("startRetention", () => {
  it("sweeps at start and on its interval, logs a failed sweep and keeps going, and stops", async () => {
    let calls = 0;
    const fails = {
      prune: () => {
        calls++;
        throw new Error("database is locked");
      },
    };
    const empty = { prune: () => 0 };
    const { log, lines } = memoryLog();
    const r = startRetention(
      { events: fails, reservations: empty, processed: empty, claims: empty },
      log,
      10,
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    await r.stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(after).toBeGreaterThan(2);
    expect(calls).toBe(after);
    expect(lines[0]).toMatchObject({ level: "error", message: "retention sweep failed" });
  });
});
