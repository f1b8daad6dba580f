import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/parse.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import type { Log } from "../../../core/log.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { createPortableSpend } from "../../../functions/local/spend.ts";
import { usage } from "../../fixtures/usage.ts";

const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };

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
    await portable.bus.publish([
      {
        id: "r1",
        source: "llm-gateway",
        detailType: "llm.usage",
        detail: { ...usage("r1", { costUsd: 0.6, ...at }) },
        time: at.time,
      },
    ]);
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
});
