import { describe, expect, it } from "vitest";
import type { EventEnvelope, Subscription } from "../../../core/events/port.ts";
import { event, useBuses } from "./sqlite-bus-harness.ts";

const h = useBuses();

/** A subscriber that takes batches; `failBatches` batch calls throw before it starts accepting them. */
function batcher(failBatches = 0) {
  const batches: string[][] = [];
  const singles: string[] = [];
  let failures = failBatches;
  const sub: Subscription = {
    name: "batcher",
    pattern: { "detail-type": ["llm.usage"] },
    handle: async (e: EventEnvelope) => void singles.push(e.id),
    handleBatch: async (envs: EventEnvelope[]) => {
      if (failures-- > 0) throw new Error("batch refused");
      batches.push(envs.map((e) => e.id));
    },
  };
  return { sub, batches, singles };
}

describe("SQLite event bus: batch delivery", () => {
  it("hands a subscriber that takes batches every matching event of a round in one call, in order", async () => {
    const b = batcher();
    const bus = h.bus([b.sub]);
    await bus.publish([event("u1", "llm.usage"), event("t1", "budget.threshold"), event("u2", "llm.usage")]);
    await bus.publish([event("u3", "llm.usage")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    expect(b.batches.flat()).toEqual(["u1", "u2", "u3"]);
    expect(b.batches.length).toBeLessThan(3);
    expect(b.singles).toEqual([]);
  });

  it("falls back to one-by-one delivery, with its retries, when a batch fails", async () => {
    const b = batcher(1);
    const bus = h.bus([b.sub]);
    await bus.publish([event("u1", "llm.usage"), event("u2", "llm.usage")]);
    bus.start();
    expect(await bus.drain(2000)).toBe(true);
    expect(b.singles).toEqual(["u1", "u2"]);
  });
});

describe("SQLite event bus: group commit", () => {
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it("commits publishes of one window together: none is answered, or visible, before the commit", async () => {
    const bus = h.bus([]);
    let firstAnswered = false;
    const first = bus.publish([event("e1")]).then(() => {
      firstAnswered = true;
    });
    await turn();
    const second = bus.publish([event("e2")]);
    const outboxRows = () => Number(h.dbs[0]!.prepare("SELECT count(*) AS n FROM event_outbox").get()?.n);
    expect([firstAnswered, outboxRows()]).toEqual([false, 0]);
    await Promise.all([first, second]);
    expect(outboxRows()).toBe(2);
  });

  it("stop() commits the open window, and a later bus over the file delivers it", async () => {
    const b = batcher();
    const first = h.bus([b.sub]);
    const published = first.publish([event("e1", "llm.usage")]);
    await first.stop();
    await published;
    const second = h.bus([b.sub]);
    second.start();
    await expect.poll(() => b.batches.flat()).toEqual(["e1"]);
  });
});
