import { describe, expect, it } from "vitest";
import { createSqliteRateLimitStore } from "../../../core/ratelimit/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const bucket = (name: string) => ({ name, limit: 2, amount: 1 });

describe("the SQLite rate-limit store's sweep", () => {
  it("deletes old windows of a quiet gateway, a request every 5 minutes", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRateLimitStore(db);
    for (let i = 0; i < 50; i++) await store.consume([bucket(`key:k${i}:requests`)], NOW + i * 5 * 60_000);
    const rows = Number((db.prepare("SELECT count(*) AS n FROM rate_buckets").get() as { n: number }).n);
    expect(rows).toBeLessThanOrEqual(2);
  });

  it("goes on once a clock stepped a day ahead for a request is back", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRateLimitStore(db);
    await store.consume([bucket("key:k:requests")], NOW);
    await store.consume([bucket("key:k:requests")], NOW + 86_400_000);
    for (let i = 1; i <= 60; i++) await store.consume([bucket(`key:k${i}:requests`)], NOW + i * 60_000);
    const rows = Number((db.prepare("SELECT count(*) AS n FROM rate_buckets").get() as { n: number }).n);
    // The day-ahead window, and the minutes still inside the last few kept.
    expect(rows).toBeLessThanOrEqual(6);
  });
});
