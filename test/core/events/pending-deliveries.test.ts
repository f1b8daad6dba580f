import { describe, expect, it } from "vitest";
import { pendingDeliveries } from "../../../core/events/pending-deliveries.ts";

describe("pendingDeliveries", () => {
  it("offers only each key's first event, once its time has come, oldest first", () => {
    const p = pendingDeliveries();
    p.add("a", 5, 100);
    p.add("a", 7, 0);
    p.add("b", 3, 50);
    expect(p.due(40)).toEqual([]);
    expect(p.due(60)).toEqual([{ key: "b", seq: 3 }]);
    expect(p.due(100)).toEqual([
      { key: "b", seq: 3 },
      { key: "a", seq: 5 },
    ]);
    expect(p.nextDue()).toBe(50);
  });

  it("puts an earlier event met again after a crash ahead of a later one waiting for its retry", () => {
    const p = pendingDeliveries();
    p.add("a", 7, 500);
    p.add("a", 5, 0);
    expect(p.due(0)).toEqual([{ key: "a", seq: 5 }]);
    p.done("a");
    expect([p.due(0), p.nextDue()]).toEqual([[], 500]);
  });

  it("makes the next event of a key due at once when its first is done", () => {
    const p = pendingDeliveries();
    p.add("a", 5, 100);
    p.add("a", 7, 0);
    expect(p.blocks("a")).toBe(true);
    p.done("a");
    expect([p.has(5), p.has(7), p.due(0)]).toEqual([false, true, [{ key: "a", seq: 7 }]]);
    p.done("a");
    expect([p.blocks("a"), p.size, p.nextDue()]).toEqual([false, 0, undefined]);
  });

  it("moves a key's first event to its next retry time", () => {
    const p = pendingDeliveries();
    p.add("a", 5, 100);
    p.retryAt("a", 300);
    expect([p.due(200), p.nextDue()]).toEqual([[], 300]);
  });
});
