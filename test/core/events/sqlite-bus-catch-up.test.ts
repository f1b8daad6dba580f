import { describe, expect, it } from "vitest";
import type { Subscription } from "../../../core/events/port.ts";
import { event, recorder, useBuses } from "./sqlite-bus-harness.ts";

const h = useBuses();
const usage = { "detail-type": ["llm.usage"] };

describe("SQLite event bus: caughtUp", () => {
  it("resolves once the subscription has handled what was published before, still in its commit window", async () => {
    const r = recorder("aggregator", usage);
    const bus = h.bus([r.sub]);
    bus.start();
    // Not awaited: the event waits in the connection's group commit, not yet in the outbox.
    void bus.publish([event("u1")]);
    expect(await bus.caughtUp("aggregator", 1_000)).toBe(true);
    expect(r.ids()).toEqual(["u1"]);
  });

  it("resolves at once on a bus that is not delivering, which nothing would catch up", async () => {
    const r = recorder("aggregator", usage);
    const bus = h.bus([r.sub]);
    await bus.publish([event("u1")]);
    const started = Date.now();
    expect(await bus.caughtUp("aggregator", 5_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.ids()).toEqual([]);
  });

  /** A subscription whose handler holds each event until released. */
  const held = (name: string) => {
    const waiting: Array<() => void> = [];
    const sub: Subscription = {
      name,
      pattern: usage,
      handle: () =>
        new Promise<void>((resolve) => {
          waiting.push(resolve);
        }),
    };
    const release = () => {
      for (const r of waiting.splice(0)) r();
    };
    return { sub, release };
  };

  it("is not held up by another subscription that is stuck", async () => {
    const r = recorder("aggregator", usage);
    const webhook = held("webhook");
    const bus = h.bus([r.sub, webhook.sub]);
    bus.start();
    await bus.publish([event("u1")]);
    expect(await bus.caughtUp("aggregator", 1_000)).toBe(true);
    expect(await bus.drain(50)).toBe(false);
    webhook.release();
  });

  it("gives up after its timeout while the subscription is still handling", async () => {
    const aggregator = held("aggregator");
    const bus = h.bus([aggregator.sub]);
    bus.start();
    await bus.publish([event("u1")]);
    expect(await bus.caughtUp("aggregator", 50)).toBe(false);
    aggregator.release();
    expect(await bus.caughtUp("aggregator", 1_000)).toBe(true);
  });
});
