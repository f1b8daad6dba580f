import { describe, expect, it } from "vitest";
import { openOutbox } from "../../../core/events/sqlite-outbox.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

describe("SQLite outbox cursors", () => {
  it("only move forward: a cursor saved late never undoes a later one", () => {
    const outbox = openOutbox(openDatabase(":memory:"));
    outbox.initCursors(["aggregator"]);
    outbox.skip("aggregator", 150);
    outbox.skip("aggregator", 100);
    expect(outbox.cursor("aggregator")).toBe(150);
    outbox.skip("aggregator", 151);
    expect(outbox.cursor("aggregator")).toBe(151);
  });

  it("lists a subscription's retrying and waiting events in publication order, with their state", () => {
    const outbox = openOutbox(openDatabase(":memory:"));
    outbox.insert(
      ["e1", "e2", "e3"].map((id) => ({ id, source: "s", detailType: "t", detail: {}, time: "t" })),
    );
    outbox.wait("alerts", 3);
    outbox.retryAt("alerts", 1, 2, 5000, "boom");
    outbox.retryAt("usage", 2, 1, 6000, "boom");
    outbox.dead("alerts", 2, 9, "gone");
    expect(outbox.pending("alerts").map((r) => [r.id, r.attempts, r.next_attempt_at])).toEqual([
      ["e1", 2, 5000],
      ["e3", 0, null],
    ]);
  });
});
