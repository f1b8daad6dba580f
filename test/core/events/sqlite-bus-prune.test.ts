import { describe, expect, it } from "vitest";
import { event, recorder, useBuses } from "./sqlite-bus-harness.ts";

const h = useBuses();
const old = (id: string) => ({ ...event(id), time: "2026-11-20T00:00:00.000Z" });
const outboxIds = () =>
  (h.dbs[0]!.prepare("SELECT id FROM event_outbox ORDER BY seq").all() as Array<{ id: string }>).map(
    (r) => r.id,
  );
const CUTOFF = "2026-11-25T00:00:00.000Z";

describe("SQLite event bus: pruning", () => {
  it("deletes old events every subscription is done with, but never the newest row", async () => {
    const a = recorder("a", { "detail-type": ["llm.usage"] });
    const b = recorder("b", { source: ["llm-gateway"] });
    const bus = h.bus([a.sub, b.sub]);
    await bus.publish([old("e1"), old("e2"), old("e3")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    expect(bus.prune(CUTOFF, 100)).toBe(2);
    expect(outboxIds()).toEqual(["e3"]);
  });

  it("keeps events a subscription still retries", async () => {
    const stuck = recorder("stuck", { "detail-type": ["llm.usage"] }, 1_000);
    const bus = h.bus([stuck.sub], { retryBaseMs: 60_000 });
    await bus.publish([old("e1"), old("e2")]);
    bus.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bus.prune(CUTOFF, 100)).toBe(0);
    expect(outboxIds()).toEqual(["e1", "e2"]);
  });

  it("is not held back by a subscription no longer configured", async () => {
    const stuck = recorder("removed", { source: ["llm-gateway"] }, 1_000);
    const first = h.bus([stuck.sub], { retryBaseMs: 60_000 });
    await first.publish([old("e1"), old("e2"), old("e3")]);
    first.start();
    // Each failed once and waits for a retry a minute off.
    await expect.poll(() => stuck.calls()).toBe(3);
    await first.stop();
    const a = recorder("a", { source: ["llm-gateway"] });
    const restarted = h.bus([a.sub]);
    // A new subscription starts at the end of the outbox, so it has passed every earlier event.
    expect(restarted.prune(CUTOFF, 100)).toBe(2);
  });

  it("keeps delivered events newer than the cutoff", async () => {
    const a = recorder("a", { source: ["llm-gateway"] });
    const bus = h.bus([a.sub]);
    const recent = (id: string) => ({ ...event(id), time: "2026-11-25T00:00:00.001Z" });
    await bus.publish([recent("n1"), recent("n2"), recent("n3")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    expect(bus.prune(CUTOFF, 100)).toBe(0);
    expect(outboxIds()).toEqual(["n1", "n2", "n3"]);
  });

  it("delivers events published after a prune: their seqs are new", async () => {
    const a = recorder("a", { source: ["llm-gateway"] });
    const bus = h.bus([a.sub]);
    await bus.publish([old("e1"), old("e2")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    bus.prune(CUTOFF, 100);
    await bus.publish([event("after")]);
    expect(await bus.drain(2000)).toBe(true);
    expect(a.ids()).toEqual(["e1", "e2", "after"]);
  });

  it("deletes a page at a time", async () => {
    const a = recorder("a", { source: ["llm-gateway"] });
    const bus = h.bus([a.sub]);
    await bus.publish(Array.from({ length: 7 }, (_, i) => old(`e${i}`)));
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    expect([bus.prune(CUTOFF, 4), bus.prune(CUTOFF, 4), bus.prune(CUTOFF, 4)]).toEqual([4, 2, 0]);
    expect(outboxIds()).toEqual(["e6"]);
  });

  it("drops the rows of events that failed before and were then delivered, and keeps dead letters", async () => {
    const flaky = recorder("flaky", { source: ["llm-gateway"] }, 1);
    const bus = h.bus([flaky.sub]);
    await bus.publish([old("e1"), old("e2")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    const rows = () => h.dbs[0]!.prepare("SELECT status FROM event_deliveries").all();
    expect(rows()).toEqual([{ status: "delivered" }]);
    bus.prune(CUTOFF, 100);
    expect(rows()).toEqual([]);

    const dead = recorder("dead", { source: ["llm-gateway"] }, 1_000);
    const other = h.bus([dead.sub], { maxAttempts: 1 });
    await other.publish([old("e3"), old("e4")]);
    other.start();
    expect(await other.drain(2000)).toBe(true);
    other.prune(CUTOFF, 100);
    expect(
      h.dbs[1]!.prepare("SELECT status FROM event_deliveries WHERE subscription = 'dead'").all(),
    ).toEqual([{ status: "dead" }, { status: "dead" }]);
    // A dead letter keeps its event, to be read and replayed.
    expect(outboxIds()).toEqual(["e3", "e4"]);
  });
});
