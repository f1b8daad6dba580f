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

  it("finds a page's delivery rows with one range query", () => {
    const outbox = openOutbox(openDatabase(":memory:"));
    outbox.retryAt("aggregator", 7, 1, Date.now() + 1000, "boom");
    expect([
      outbox.anyState("aggregator", 1, 6),
      outbox.anyState("aggregator", 1, 7),
      outbox.anyState("aggregator", 7, 9),
      outbox.anyState("audit", 1, 9),
    ]).toEqual([false, true, true, false]);
  });
});
