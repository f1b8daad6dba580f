import { describe, expect, it } from "vitest";
import type { Subscription } from "../../../core/events/port.ts";
import { transaction } from "../../../core/storage/sqlite.ts";
import { event, memoryLog, recorder, useBuses } from "./sqlite-bus-harness.ts";

const h = useBuses();

describe("SQLite event bus: delivery", () => {
  it("delivers EventBridge envelopes to matching subscribers only", async () => {
    const usage = recorder("usage", { "detail-type": ["llm.usage"] });
    const thresholds = recorder("thresholds", { "detail-type": ["budget.threshold"] });
    const big = recorder("big", { detail: { costUsd: [{ numeric: [">", 1] }] } });
    // Envelope fields and detail rules together (the bus checks the first before parsing the detail).
    const bigUsage = recorder("big-usage", {
      "detail-type": ["llm.usage"],
      detail: { costUsd: [{ numeric: [">", 1] }] },
    });
    const uncosted = recorder("uncosted", {
      source: ["llm-gateway"],
      detail: { costUsd: [{ exists: false }] },
    });
    const b = h.bus([usage.sub, thresholds.sub, big.sub, bigUsage.sub, uncosted.sub]);
    b.start();
    await b.publish([
      event("u1", "llm.usage", { costUsd: 2 }),
      event("u2", "llm.usage", { costUsd: 0.5 }),
      event("t1", "budget.threshold", { costUsd: 3 }),
      event("t2", "budget.threshold"),
    ]);
    expect(await b.drain(2000)).toBe(true);
    expect(usage.ids()).toEqual(["u1", "u2"]);
    expect(thresholds.ids()).toEqual(["t1", "t2"]);
    expect(big.ids()).toEqual(["u1", "t1"]);
    expect(bigUsage.ids()).toEqual(["u1"]);
    expect(uncosted.ids()).toEqual(["t2"]);
    expect(usage.seen[0]).toEqual({
      version: "0",
      id: "u1",
      "detail-type": "llm.usage",
      source: "llm-gateway",
      account: "000000000000",
      time: "2025-01-02T03:04:05Z",
      region: "local",
      resources: [],
      detail: { org: "acme", costUsd: 2, eventId: "u1" },
    });
  });

  it("writes the envelope's time in whole seconds, as EventBridge does", async () => {
    const all = recorder("all", { source: ["llm-gateway"] });
    const b = h.bus([all.sub]);
    b.start();
    await b.publish([{ ...event("ms", "llm.usage"), time: "2025-01-02T03:04:05.987Z" }]);
    expect(await b.drain(2000)).toBe(true);
    expect(all.seen[0]?.time).toBe("2025-01-02T03:04:05Z");
  });

  it("delivers a duplicate publish of one id once", async () => {
    const all = recorder("all", { source: ["llm-gateway"] });
    const b = h.bus([all.sub]);
    b.start();
    await b.publish([event("e1"), event("e1")]);
    await b.publish([event("e1")]);
    expect(await b.drain(2000)).toBe(true);
    expect(all.ids()).toEqual(["e1"]);
    // What the cost aggregator relies on to publish an alert before claiming it (aggregator.ts).
    expect(b.dedupesIds).toBe(true);
  });

  it("retries a failing subscriber until it succeeds without holding back the others", async () => {
    const { log, lines } = memoryLog();
    const flaky = recorder("flaky", { source: ["llm-gateway"] }, 3);
    const steady = recorder("steady", { source: ["llm-gateway"] });
    const b = h.bus([flaky.sub, steady.sub], { log });
    b.start();
    await b.publish([event("e1")]);
    await expect.poll(() => steady.ids()).toEqual(["e1"]);
    expect(await b.drain(5000)).toBe(true);
    expect(flaky.ids()).toEqual(["e1"]);
    expect(flaky.calls()).toBe(4);
    expect(lines.filter((l) => l.level === "warn").map((l) => l.fields?.eventId)).toEqual(["e1", "e1", "e1"]);
  });

  it("holds back nothing behind a failing event without an order key, as EventBridge retries a target", async () => {
    const flaky = recorder("flaky", { source: ["llm-gateway"] }, 1);
    const b = h.bus([flaky.sub], { retryBaseMs: 50 });
    b.start();
    await b.publish([event("e1"), event("e2"), event("e3")]);
    await expect.poll(() => flaky.ids()).toEqual(["e2", "e3"]);
    expect(await b.drain(5000)).toBe(true);
    expect(flaky.ids()).toEqual(["e2", "e3", "e1"]);
  });

  it("holds back only the later events of a failing event's order key, in publication order", async () => {
    const seen: string[] = [];
    let aFailures = 2;
    const alerts: Subscription = {
      name: "alerts",
      pattern: { source: ["llm-gateway"] },
      orderKey: (env) => String(env.detail.org),
      async handle(env) {
        if (env.detail.org === "a" && aFailures-- > 0) throw new Error("webhook refused org a");
        seen.push(env.id);
      },
    };
    const b = h.bus([alerts], { retryBaseMs: 40 });
    b.start();
    const org = (id: string, name: string) => event(id, "budget.threshold", { org: name });
    await b.publish([org("a50", "a"), org("b50", "b"), org("a80", "a"), org("b80", "b")]);
    await expect.poll(() => seen).toEqual(["b50", "b80"]);
    await b.publish([org("a100", "a"), org("b100", "b")]);
    await expect.poll(() => seen).toEqual(["b50", "b80", "b100"]);
    expect(await b.drain(5000)).toBe(true);
    expect(seen).toEqual(["b50", "b80", "b100", "a50", "a80", "a100"]);
  });

  it("reaches a new event between retries whose target hangs until its timeout", async () => {
    const seen: string[] = [];
    const alerts: Subscription = {
      name: "alerts",
      pattern: { source: ["llm-gateway"] },
      orderKey: (env) => String(env.detail.org),
      async handle(env) {
        if (env.detail.org === "fast") return void seen.push(env.id);
        // A webhook that never answers for these orgs: each attempt ends at its timeout.
        await new Promise((resolve) => setTimeout(resolve, 60));
        throw new Error("timed out");
      },
    };
    // Retries are due at once, so the hanging orgs always have one waiting.
    const b = h.bus([alerts], { retryBaseMs: 1, maxRetryDelayMs: 1 });
    b.start();
    await b.publish(["s1", "s2", "s3", "s4", "s5"].map((org) => event(`${org}-50`, "t", { org })));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const published = Date.now();
    await b.publish([event("fast-50", "t", { org: "fast" })]);
    await expect.poll(() => seen, { timeout: 1_000, interval: 5 }).toEqual(["fast-50"]);
    // One hanging attempt in flight, then the new event: not a round of every hanging org's retries.
    expect(Date.now() - published).toBeLessThan(200);
    await b.stop();
  });

  it("retries a failed event while new events keep coming, not only once they stop", async () => {
    const seen: string[] = [];
    let failed = false;
    const sub: Subscription = {
      name: "usage",
      pattern: { source: ["llm-gateway"] },
      async handle(env) {
        if (env.id === "x" && !failed) {
          failed = true;
          throw new Error("once");
        }
        // Each delivery takes a while, so new events are always waiting.
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(env.id);
      },
    };
    const b = h.bus([sub], { retryBaseMs: 10 });
    b.start();
    await b.publish([event("x")]);
    let n = 0;
    const stream = setInterval(() => void b.publish([event(`n${n++}`)]), 3);
    try {
      await expect.poll(() => seen.includes("x"), { timeout: 2_000, interval: 5 }).toBe(true);
    } finally {
      clearInterval(stream);
    }
    await b.stop();
  });

  it("dead-letters a key's first event at maxAttempts and then delivers the ones behind it", async () => {
    const seen: string[] = [];
    const alerts: Subscription = {
      name: "alerts",
      pattern: { source: ["llm-gateway"] },
      orderKey: () => "one",
      async handle(env) {
        if (env.id === "poison") throw new Error("refused");
        seen.push(env.id);
      },
    };
    const b = h.bus([alerts], { maxAttempts: 2, retryBaseMs: 1 });
    b.start();
    await b.publish([event("poison"), event("next")]);
    expect(await b.drain(5000)).toBe(true);
    expect(seen).toEqual(["next"]);
    const rows = h.dbs[0]!.prepare(
      "SELECT o.id, d.status, d.attempts FROM event_deliveries d JOIN event_outbox o USING (seq) ORDER BY seq",
    ).all();
    expect(rows).toEqual([
      { id: "poison", status: "dead", attempts: 2 },
      { id: "next", status: "delivered", attempts: 1 },
    ]);
  });

  it("keeps publication order per subscription, one delivery at a time", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const order: string[] = [];
    const slow: Subscription = {
      name: "slow",
      pattern: { source: ["llm-gateway"] },
      async handle(env) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        order.push(env.id);
        inFlight--;
      },
    };
    const b = h.bus([slow]);
    b.start();
    const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
    for (const id of ids) await b.publish([event(id)]);
    expect(await b.drain(5000)).toBe(true);
    expect(order).toEqual(ids);
    expect(maxInFlight).toBe(1);
  });

  it("hands over an event committed while its subscription's loop is ending, without waiting for another commit", async () => {
    // The commit comes a few microtasks after the subscriber took the first event, from elsewhere in the
    // process (a rate-limit decision, the aggregator's batch): at some of them, the loop has made its
    // last look at the outbox and not yet ended.
    const late: number[] = [];
    for (let ticks = 0; ticks < 12; ticks++) {
      const seen: string[] = [];
      let b!: ReturnType<typeof h.bus>;
      const sub: Subscription = {
        name: "sink",
        pattern: { source: ["llm-gateway"] },
        async handle(env) {
          seen.push(env.id);
          if (env.id !== `first-${ticks}`) return;
          let p = Promise.resolve();
          for (let i = 0; i < ticks; i++) p = p.then(() => undefined);
          void p.then(() => {
            void b.publish([event(`second-${ticks}`)]);
            transaction(h.dbs.at(-1)!, () => undefined);
          });
        },
      };
      b = h.bus([sub]);
      b.start();
      // Ids of their own: the buses share one database file, which keeps an id once.
      await b.publish([event(`first-${ticks}`)]);
      const second = () => seen.includes(`second-${ticks}`);
      for (let waited = 0; waited < 300 && !second(); waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      if (!second()) late.push(ticks);
      await b.stop();
    }
    expect(late).toEqual([]);
  });

  it("loses nothing when the handler throws mid-run", async () => {
    const seen: string[] = [];
    let thrown = false;
    const sub: Subscription = {
      name: "usage",
      pattern: { source: ["llm-gateway"] },
      async handle(env) {
        if (env.id === "e5" && !thrown) {
          thrown = true;
          throw new TypeError("boom");
        }
        seen.push(env.id);
      },
    };
    const b = h.bus([sub]);
    b.start();
    const ids = Array.from({ length: 10 }, (_, i) => `e${i}`);
    await b.publish(ids.map((id) => event(id)));
    expect(await b.drain(2000)).toBe(true);
    // e5 came back with its retry, after the events behind it.
    expect(seen).toEqual([...ids.filter((id) => id !== "e5"), "e5"]);
  });

  it("dead-letters after maxAttempts: logged with the event id and kept in the table", async () => {
    const { log, lines } = memoryLog();
    const broken = recorder("broken", { source: ["llm-gateway"] }, 1_000);
    const b = h.bus([broken.sub], { log, maxAttempts: 3, retryBaseMs: 1 });
    b.start();
    await b.publish([event("e1"), event("e2")]);
    expect(await b.drain(5000)).toBe(true);
    expect(broken.calls()).toBe(6);
    const errors = lines.filter((l) => l.level === "error");
    expect(errors.map((l) => l.fields?.eventId)).toEqual(["e1", "e2"]);
    const rows = h.dbs[0]!.prepare(
      "SELECT o.id, d.status, d.attempts FROM event_deliveries d JOIN event_outbox o USING (seq) ORDER BY seq",
    ).all();
    expect(rows).toEqual([
      { id: "e1", status: "dead", attempts: 3 },
      { id: "e2", status: "dead", attempts: 3 },
    ]);
  });

  it("rejects an unsupported pattern when the bus is created", () => {
    const bad = { name: "bad", pattern: { detail: { f: [{ suffix: ".png" }] } }, handle: async () => {} };
    expect(() => h.bus([bad as unknown as Subscription])).toThrow(/unsupported operator "suffix"/);
  });
});
