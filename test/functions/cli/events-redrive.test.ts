import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventEnvelope, Subscription } from "../../../core/events/port.ts";
import { createSqliteBus } from "../../../core/events/sqlite-bus.ts";
import type { Log } from "../../../core/log.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { DATABASE_FILE, lockDataDir } from "../../../functions/local/data-dir-lock.ts";

const CLI = join(import.meta.dirname, "../../../functions/cli/events-redrive.ts");
const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "redrive-cli-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", GATEWAY_DATA_DIR: dataDir },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A gateway's bus over the data directory's database, with one subscription, run until it is idle. */
async function runBus(
  handle: (env: EventEnvelope) => Promise<void>,
  publish: string[] = [],
  name = "budget-alerts",
  time = new Date().toISOString(),
) {
  const db = openDatabase(join(dataDir, "gateway.sqlite"));
  const sub: Subscription = { name, pattern: { source: ["llm-gateway"] }, handle };
  const bus = createSqliteBus(db, {
    subscriptions: [sub],
    region: "local",
    account: "0",
    log: quiet,
    maxAttempts: 1,
  });
  bus.start();
  await bus.publish(publish.map((id) => ({ id, source: "llm-gateway", detailType: "t", detail: {}, time })));
  await bus.drain(5_000);
  await bus.stop();
  db.close();
}

describe("npm run events:redrive", () => {
  it("sends dead letters back to the bus, which delivers them when it next starts", async () => {
    await runBus(async () => {
      throw new Error("webhook down");
    }, ["a50", "a80"]);
    const r = run();
    expect([r.code, r.out]).toEqual([
      0,
      "2 dead-lettered event(s) will be delivered again when the gateway starts.\n",
    ]);
    const seen: string[] = [];
    await runBus(async (env) => void seen.push(env.id));
    expect(seen).toEqual(["a50", "a80"]);
    expect(run().out).toMatch(/^0 dead-lettered/);
  });

  it("takes one subscription's only, when named", async () => {
    await runBus(async () => {
      throw new Error("webhook down");
    }, ["a50"]);
    expect(run("--subscription", "cost-aggregator").out).toBe(
      "No dead letters for subscription 'cost-aggregator' (subscriptions with dead letters: budget-alerts).\n",
    );
    expect(run("--subscription", "budget-alerts").out).toMatch(/^1 dead-lettered/);
  });

  it("sends usage events back however old: their markers stay while they are in the outbox", async () => {
    const down = async () => {
      throw new Error("store down");
    };
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    await runBus(down, ["old"], "cost-aggregator", hoursAgo(60));
    await runBus(down, ["recent"], "cost-aggregator", hoursAgo(30));
    expect(run().out).toBe("2 dead-lettered event(s) will be delivered again when the gateway starts.\n");
    const seen: string[] = [];
    await runBus(async (env) => void seen.push(env.id), [], "cost-aggregator");
    expect(seen.sort()).toEqual(["old", "recent"]);
  });

  it.each([
    [
      "the gateway runs on the data directory",
      () => {
        writeFileSync(join(dataDir, DATABASE_FILE), "");
        // This process stands for the gateway: it holds the directory's lock, as a running one does.
        return lockDataDir(dataDir);
      },
      [],
      1,
      /The gateway \(pid \d+\) is running on this data directory: stop it/,
    ],
    [
      "the data directory has no gateway database (a mistyped GATEWAY_DATA_DIR), creating none",
      () => {},
      [],
      2,
      /^No gateway database in .+ \(set GATEWAY_DATA_DIR to the gateway's\)\.\n$/,
    ],
    [
      "an option is unknown",
      () => {},
      ["--everything"],
      2,
      /Unknown option.*\nusage: npm run events:redrive/s,
    ],
  ])("refuses when %s", (_, before, args, code, message) => {
    const held = (before as () => { release(): void } | undefined)();
    const r = run(...(args as string[]));
    held?.release();
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(existsSync(join(dataDir, "gateway.sqlite"))).toBe(code === 1);
  });
});
