import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Subscription } from "../../../core/events/port.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { event, memoryLog, recorder, useBuses } from "./sqlite-bus-harness.ts";

const h = useBuses();

describe("SQLite event bus: durability", () => {
  it("redelivers undelivered events after a restart over the same file, honouring the persisted retry time", async () => {
    const first = recorder("usage", { source: ["llm-gateway"] }, 1_000);
    const b1 = h.bus([first.sub], { retryBaseMs: 100 });
    b1.start();
    await b1.publish([event("e1"), event("e2")]);
    // Each failed once and waits for its retry, 100 ms on.
    await expect.poll(() => first.calls()).toBe(2);
    await b1.stop();
    const stoppedAt = Date.now();

    const second = recorder("usage", { source: ["llm-gateway"] });
    const b2 = h.bus([second.sub]);
    b2.start();
    await expect.poll(() => second.ids(), { timeout: 2000 }).toEqual(["e1", "e2"]);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(50);
    expect(first.ids()).toEqual([]);
  });

  it("delivers a waiting event once when the saved cursor is still before it (a crash, or an older version)", async () => {
    const first = recorder("alerts", { source: ["llm-gateway"] }, 1_000);
    const b1 = h.bus([first.sub], { retryBaseMs: 60_000 });
    b1.start();
    await b1.publish([event("e1"), event("e2")]);
    await expect.poll(() => first.calls()).toBe(2);
    await b1.stop();
    // The cursor as a kill before it was saved leaves it (or as versions that stopped at a failure
    // kept it), with both retries due.
    h.dbs[0]!.exec("UPDATE event_cursors SET last_seq = 0; UPDATE event_deliveries SET next_attempt_at = 0");

    const second = recorder("alerts", { source: ["llm-gateway"] });
    const b2 = h.bus([second.sub]);
    b2.start();
    expect(await b2.drain(5_000)).toBe(true);
    expect(second.ids()).toEqual(["e1", "e2"]);
  });

  it("says a delivery round waits for another process's write lock, as a warning, not a failure", async () => {
    const seen = recorder("usage", { source: ["llm-gateway"] });
    const logged = memoryLog();
    const b = h.bus([seen.sub], { retryBaseMs: 100, log: logged.log });
    b.start();
    await b.publish([event("e1")]);
    // Taken before the round 20 ms after that commit: it delivers e1, then cannot save its cursor.
    const other = openDatabase(join(h.dir(), "events.db"));
    other.exec("BEGIN IMMEDIATE");
    try {
      await expect
        .poll(() => logged.lines.filter((l) => l.level !== "info").map((l) => [l.level, l.message]), {
          timeout: 10_000,
        })
        .toContainEqual(["warn", "event delivery waits for the database's write lock"]);
      expect(logged.lines.filter((l) => l.level === "error")).toEqual([]);
    } finally {
      other.exec("COMMIT");
      other.close();
    }
    expect(await b.drain(10_000)).toBe(true);
  }, 20_000);

  it("publishes once another process lets go of the write lock it held past the busy timeout", async () => {
    const seen = recorder("usage", { source: ["llm-gateway"] });
    const b = h.bus([seen.sub], { retryBaseMs: 1_000 });
    b.start();
    // Another connection (another process, as far as SQLite knows) takes the write lock for 5.5 s.
    const other = openDatabase(join(h.dir(), "events.db"));
    other.exec("BEGIN IMMEDIATE");
    const released = setTimeout(() => other.exec("COMMIT"), 5_500);
    try {
      await b.publish([event("e1")]);
    } finally {
      clearTimeout(released);
      if (other.isTransaction) other.exec("COMMIT");
      other.close();
    }
    await expect.poll(() => seen.ids()).toEqual(["e1"]);
  }, 20_000);

  it("waits, when stopped, for a publish held by another process's write lock, and counts it as work", async () => {
    const b = h.bus([recorder("usage", { source: ["llm-gateway"] }).sub], { retryBaseMs: 1_000 });
    const other = openDatabase(join(h.dir(), "events.db"));
    other.exec("BEGIN IMMEDIATE");
    const released = setTimeout(() => other.exec("COMMIT"), 5_500);
    try {
      const published = b.publish([event("e1")]);
      // The first attempt has failed and the next waits: nothing is committed, yet work remains.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await b.drain(50)).toBe(false);
      await b.stop();
      await published;
    } finally {
      clearTimeout(released);
      if (other.isTransaction) other.exec("COMMIT");
      other.close();
    }
    const ids = h.dbs[0]!.prepare("SELECT id FROM event_outbox").all();
    expect(ids).toEqual([{ id: "e1" }]);
  }, 20_000);

  it("keeps an order key's events waiting behind its failing one across a restart", async () => {
    const byOrg = { orderKey: (env: { detail: Record<string, unknown> }) => String(env.detail.org) };
    const first = recorder("alerts", { source: ["llm-gateway"] }, 1_000);
    const b1 = h.bus([{ ...first.sub, ...byOrg }], { retryBaseMs: 100 });
    b1.start();
    await b1.publish([event("a1", "t", { org: "a" }), event("a2", "t", { org: "a" })]);
    await expect.poll(() => first.calls()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(first.calls()).toBe(1);
    await b1.stop();

    const second = recorder("alerts", { source: ["llm-gateway"] });
    const b2 = h.bus([{ ...second.sub, ...byOrg }]);
    b2.start();
    await b2.publish([event("a3", "t", { org: "a" })]);
    await expect.poll(() => second.ids(), { timeout: 2000 }).toEqual(["a1", "a2", "a3"]);
  });

  it("stop() waits for the in-flight handler and records its outcome", async () => {
    let started = false;
    let finished = false;
    const slow: Subscription = {
      name: "usage",
      pattern: { source: ["llm-gateway"] },
      handle: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
    };
    const b1 = h.bus([slow]);
    b1.start();
    await b1.publish([event("e1")]);
    await expect.poll(() => started).toBe(true);
    await b1.stop();
    expect(finished).toBe(true);

    const after = recorder("usage", { source: ["llm-gateway"] });
    const b2 = h.bus([after.sub]);
    b2.start();
    expect(await b2.drain(1000)).toBe(true);
    expect(after.ids()).toEqual([]);
  });

  it("re-delivers after a crash between handle() and recording it (at least once)", async () => {
    const handled: string[] = [];
    const hang: Subscription = {
      name: "usage",
      pattern: { source: ["llm-gateway"] },
      handle: async (env) => {
        handled.push(env.id);
        await new Promise(() => {}); // the process "dies" while the handler runs
      },
    };
    const b1 = h.bus([hang]);
    b1.start();
    await b1.publish([event("e1")]);
    await expect.poll(() => handled).toEqual(["e1"]);
    h.abandon(b1); // b1 is abandoned, as after a crash: stop() would wait for the handler forever

    const after = recorder("usage", { source: ["llm-gateway"] });
    const b2 = h.bus([after.sub]);
    b2.start();
    expect(await b2.drain(2000)).toBe(true);
    expect(after.ids()).toEqual(["e1"]);
  });

  it("a new subscription sees only events published after it exists, like a new EventBridge rule", async () => {
    const b1 = h.bus([]);
    await b1.publish([event("old")]);
    const late = recorder("late", { source: ["llm-gateway"] });
    const b2 = h.bus([late.sub]);
    b2.start();
    await b2.publish([event("new")]);
    expect(await b2.drain(2000)).toBe(true);
    expect(late.ids()).toEqual(["new"]);
  });

  it("a subscription taken out of the config and put back is a new one: it replays nothing from between", async () => {
    const first = recorder("hook", { source: ["llm-gateway"] });
    const b1 = h.bus([first.sub]);
    b1.start();
    await b1.publish([event("before")]);
    expect(await b1.drain(2000)).toBe(true);
    await b1.stop();
    // Started without it: what is published now is no business of that subscription's.
    const b2 = h.bus([]);
    b2.start();
    await b2.publish([event("while-gone")]);
    await b2.stop();
    const again = recorder("hook", { source: ["llm-gateway"] });
    const b3 = h.bus([again.sub]);
    b3.start();
    await b3.publish([event("after")]);
    expect(await b3.drain(2000)).toBe(true);
    expect(again.ids()).toEqual(["after"]);
  });

  it("publishes durably before start() and delivers on start()", async () => {
    const all = recorder("all", { source: ["llm-gateway"] });
    const b = h.bus([all.sub]);
    await b.publish([event("e1")]);
    expect(all.ids()).toEqual([]);
    b.start();
    expect(await b.drain(2000)).toBe(true);
    expect(all.ids()).toEqual(["e1"]);
  });
});
