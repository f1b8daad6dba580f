import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { createEventBridgePublisher } from "../../core/events/eventbridge-publisher.ts";
import type { EventEnvelope } from "../../core/events/port.ts";
import { createSqliteBus } from "../../core/events/sqlite-bus.ts";
import { silentLog } from "../../core/log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { type EventBridgeEmulator, startEventBridgeEmulator } from "../emulators/eventbridge.ts";
import { eventPublisherContract } from "./event-publisher.contract.ts";

eventPublisherContract("SQLite outbox bus", async () => {
  const dir = mkdtempSync(join(tmpdir(), "event-contract-"));
  const db = openDatabase(join(dir, "events.db"));
  const seen: EventEnvelope[] = [];
  const bus = createSqliteBus(db, {
    subscriptions: [
      { name: "all", pattern: { source: ["llm-gateway"] }, handle: async (e) => void seen.push(e) },
    ],
    region: "local",
    account: "000000000000",
    log: silentLog,
  });
  bus.start();
  return {
    publisher: bus,
    async received() {
      if (!(await bus.drain(5000))) throw new Error("local bus did not drain");
      return seen.map((e) => ({ source: e.source, detailType: e["detail-type"], detail: e.detail }));
    },
    async close() {
      await bus.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let emu: EventBridgeEmulator;
beforeAll(async () => {
  emu = await startEventBridgeEmulator();
});
afterAll(async () => {
  await emu.stop();
});

eventPublisherContract("EventBridge (emulator)", async () => {
  emu.reset();
  const client = emu.client({ maxAttempts: 1 });
  return {
    publisher: createEventBridgePublisher(client, "llm-gateway", { baseDelayMs: 1 }),
    async received() {
      return emu.events.map((e) => ({ source: e.source, detailType: e.detailType, detail: e.detail }));
    },
    async close() {
      client.destroy();
    },
  };
});
