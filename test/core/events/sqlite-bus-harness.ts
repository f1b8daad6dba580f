import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach } from "vitest";
import type { EventEnvelope, GatewayEvent, Subscription } from "../../../core/events/port.ts";
import { createSqliteBus, type SqliteBus, type SqliteBusOptions } from "../../../core/events/sqlite-bus.ts";
import type { Log, LogFields } from "../../../core/log.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

export const event = (
  id: string,
  detailType = "llm.usage",
  detail: Record<string, unknown> = {},
): GatewayEvent => ({
  id,
  source: "llm-gateway",
  detailType,
  detail: { org: "acme", ...detail },
  time: "2025-01-02T03:04:05Z",
});

/** A subscription that records envelopes and fails while `failures` is positive. */
export function recorder(name: string, pattern: Subscription["pattern"], failures = 0) {
  const seen: EventEnvelope[] = [];
  let calls = 0;
  const sub: Subscription = {
    name,
    pattern,
    async handle(envelope) {
      calls++;
      if (failures > 0) {
        failures--;
        throw new Error(`${name} is down`);
      }
      seen.push(envelope);
    },
  };
  return { sub, seen, ids: () => seen.map((e) => e.id), calls: () => calls };
}

export function memoryLog() {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) =>
    lines.push({ level, message, fields });
  const log: Log = { info: at("info"), warn: at("warn"), error: at("error") };
  return { log, lines };
}

/**
 * Registers per-test setup: every bus() opens its own connection to one database file in a fresh temp
 * directory (a second bus over the same file is a restarted process). Buses are stopped after each test
 * unless abandon()ed (a crashed process).
 */
export function useBuses() {
  let dir = "";
  const dbs: DatabaseSync[] = [];
  const buses: SqliteBus[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sqlite-bus-"));
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.stop()));
    for (const db of dbs.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dbs,
    bus(subscriptions: Subscription[], extra: Partial<SqliteBusOptions> = {}): SqliteBus {
      const db = openDatabase(join(dir, "events.db"));
      dbs.push(db);
      const b = createSqliteBus(db, {
        subscriptions,
        region: "local",
        account: "000000000000",
        log: extra.log ?? memoryLog().log,
        retryBaseMs: 5,
        ...extra,
      });
      buses.push(b);
      return b;
    },
    /** The temp directory of this test's database file (`events.db`). */
    dir: () => dir,
    abandon(b: SqliteBus): void {
      buses.splice(buses.indexOf(b), 1);
    },
  };
}
