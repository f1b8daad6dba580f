import { describe, expect, it } from "vitest";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { usage } from "../../fixtures/usage.ts";

/** The spend tables as versions before nano-dollars created them, with a day's amounts in micro-dollars. */
const MICROS_SCHEMA = `
CREATE TABLE budget_counters (
  scope TEXT NOT NULL, id TEXT NOT NULL, period_key TEXT NOT NULL, region TEXT NOT NULL,
  spent_micros INTEGER NOT NULL,
  PRIMARY KEY (scope, id, period_key, region)
) WITHOUT ROWID;
CREATE TABLE budget_reservations (
  request_id TEXT PRIMARY KEY, items TEXT NOT NULL, settled INTEGER NOT NULL DEFAULT 0, actual_micros INTEGER
) WITHOUT ROWID;
CREATE TABLE spend_processed (request_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE spend_rollups (
  day TEXT NOT NULL, org TEXT NOT NULL, key_id TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  PRIMARY KEY (day, org, key_id, provider, model)
);
CREATE TABLE spend_periods (
  scope TEXT NOT NULL, id TEXT NOT NULL, period_key TEXT NOT NULL, cost_micros INTEGER NOT NULL,
  PRIMARY KEY (scope, id, period_key)
);
CREATE TABLE spend_thresholds (key TEXT PRIMARY KEY);
INSERT INTO budget_counters VALUES ('org', 'acme', '2026-11-26', 'local', 1500000);
INSERT INTO budget_reservations (request_id, items) VALUES
  ('in-flight', '[{"scope":"org","id":"acme","periodKey":"2026-11-26","amountMicros":500000}]');
INSERT INTO spend_rollups VALUES ('2026-11-26', 'acme', 'k1', 'openai', 'gpt-4o', 1, 100, 20, 1000000);
INSERT INTO spend_periods VALUES ('org', 'acme', '2026-11-26', 1000000);
`;

const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" } as const;

describe("SQLite spend tables from before nano-dollars", () => {
  it("keep their micro-dollar amounts and add nano-dollar ones to them", async () => {
    const db = openDatabase(":memory:");
    db.exec(MICROS_SCHEMA);
    const budgets = createSqliteBudgetStore(db);
    const spend = createSqliteSpendStore(db);
    // A second start over the migrated file must not add the columns again.
    createSqliteBudgetStore(db);
    createSqliteSpendStore(db);

    expect(await budgets.spent(counter)).toBe(1.5);
    // A reservation made by the earlier version settles from its micro-dollar record.
    await budgets.settle("in-flight", 0.0000002);
    expect(await budgets.spent(counter)).toBe(1.0000002);
    expect(await budgets.reserve("new", [{ counter, amountUsd: 0.25, limitUsd: 2 }])).toEqual({ ok: true });
    await budgets.settle("new", 0.0000003);
    expect(await budgets.spent(counter)).toBe(1.0000005);

    await spend.record(usage("r2", { costUsd: 0.0000002 }));
    expect(await spend.periodSpend("org", "acme", "2026-11-26")).toBe(1.0000002);
    const [row] = await spend.query({ from: "2026-11-26", to: "2026-11-26" });
    expect(row).toMatchObject({ requests: 2, costUsd: 1.0000002 });
  });
});
