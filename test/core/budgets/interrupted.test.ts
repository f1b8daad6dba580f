import { describe, expect, it } from "vitest";
import { interruptedUsage } from "../../../core/budgets/interrupted.ts";
import type { UnsettledReservation } from "../../../core/budgets/port.ts";
import { usageDetail } from "../../../core/events/usage.ts";
import { reservedFor } from "../../fixtures/reserved-for.ts";

const STARTED = Date.parse("2026-11-26T23:59:59.500Z");

const forRequest = (requestId: string) => reservedFor(requestId, STARTED);

const row = (id: string, amountUsd: number, reservedFor = forRequest(id)): UnsettledReservation => ({
  id,
  amountUsd,
  reservedFor,
});

describe("interruptedUsage", () => {
  it("gives nothing when no reservation was left unsettled", () => {
    expect(interruptedUsage([], "local")).toEqual([]);
  });

  it("charges an interrupted request what it reserved, in an event under its own id that settles it", () => {
    const [event] = interruptedUsage([row("r1", 0.29)], "local");
    expect(event).toMatchObject({ id: "r1", source: "llm-gateway", detailType: "llm.usage" });
    expect(event?.detail).toMatchObject({
      requestId: "r1",
      org: "acme",
      keyId: "k1",
      alias: "smart",
      endpoint: "chat",
      provider: null,
      providerModel: null,
      region: "local",
      costUsd: 0.29,
      usageReported: false,
      interrupted: true,
      status: 500,
      stream: true,
      priceVersion: "2026-11-01",
      attempts: [],
      settlements: [{ id: "r1", usd: 0.29 }],
    });
  });

  it("dates the event when its request started, so it lands in the period its counters were", () => {
    const [event] = interruptedUsage([row("r1", 0.1)], "local");
    expect(event?.time).toBe("2026-11-26T23:59:59.500Z");
    expect(event?.detail.time).toBe("2026-11-26T23:59:59.500Z");
  });

  it("adds a request's top-ups for billed attempts to its one event, to the nano-dollar", () => {
    const events = interruptedUsage(
      [row("r1", 0.1), row("r1.billed-1", 0.2, forRequest("r1")), row("r2", 0.05)],
      "local",
    );
    expect(events.map((e) => e.id)).toEqual(["r1", "r2"]);
    expect(events[0]?.detail).toMatchObject({
      costUsd: 0.3,
      settlements: [
        { id: "r1", usd: 0.1 },
        { id: "r1.billed-1", usd: 0.2 },
      ],
    });
  });

  it("writes events the cost aggregator's schema accepts", () => {
    for (const e of interruptedUsage([row("r1", 0.1), row("r2", 0)], "local"))
      expect(usageDetail.safeParse(e.detail).success).toBe(true);
  });
});
