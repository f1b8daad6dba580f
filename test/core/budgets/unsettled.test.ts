import { describe, expect, it } from "vitest";
import { OPEN_SHARDS, openShardKey, openShardOf } from "../../../core/budgets/dynamo-counters-store.ts";
import { unsettledOf } from "../../../core/budgets/unsettled.ts";
import { reservedFor } from "../../fixtures/reserved-for.ts";

const owner = reservedFor("r1", 1_764_000_000_000);

describe("unsettledOf reads back what a reservation wrote", () => {
  it("takes the amount of its first counter, in USD, and whose request it is", () => {
    expect(unsettledOf("r1", [{ amountNanos: 250_000_000 }, { amountNanos: 250_000_000 }], owner)).toEqual({
      id: "r1",
      amountUsd: 0.25,
      reservedFor: owner,
    });
  });

  it("reads amounts written in micro-dollars by versions before nano-dollars", () => {
    expect(unsettledOf("r1", [{ amountMicros: 1_500 }], owner)?.amountUsd).toBe(0.0015);
  });

  it.each([
    ["counters that are not a list", "x", owner],
    ["no counters", [], owner],
    ["a counter that is not an object", [3], owner],
    ["no owner", [{ amountNanos: 1 }], undefined],
    ["an owner without a request id", [{ amountNanos: 1 }], { ...owner, requestId: 7 }],
    ["an owner without an org", [{ amountNanos: 1 }], { ...owner, org: undefined }],
    ["an owner without a key", [{ amountNanos: 1 }], { ...owner, keyId: null }],
    ["an owner without a start time", [{ amountNanos: 1 }], { ...owner, startedAt: "yesterday" }],
    ["an amount that is not a number", [{ amountNanos: "1" }], owner],
  ])("refuses %s", (_, counters, who) => {
    expect(unsettledOf("r1", counters, who)).toBeUndefined();
  });
});

describe("openShardOf spreads a region's open reservations over the index's partitions", () => {
  it("puts a reservation in the same shard every time, named by its region", () => {
    expect(openShardOf("eu-west-1", "r-1")).toBe(openShardOf("eu-west-1", "r-1"));
    expect(openShardOf("eu-west-1", "r-1")).toMatch(/^OPEN#eu-west-1#\d+$/);
  });

  it("uses every shard for time-ordered ids and their top-ups", () => {
    const ids = Array.from(
      { length: 2_000 },
      (_, n) => `0193a0b2-7c4d-7e8f-9a0b-${String(n).padStart(12, "0")}`,
    );
    const used = new Set(
      ids.flatMap((id) => [openShardOf("us-east-1", id), openShardOf("us-east-1", `${id}.billed-1`)]),
    );
    expect(used).toEqual(
      new Set(Array.from({ length: OPEN_SHARDS }, (_, n) => openShardKey("us-east-1", n))),
    );
  });
});
