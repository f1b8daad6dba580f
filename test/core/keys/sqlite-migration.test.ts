import { describe, expect, it } from "vitest";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

/** The api_keys table as created before keys had limits. */
const OLD_SCHEMA = `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  org TEXT NOT NULL,
  role TEXT NOT NULL,
  name TEXT,
  models TEXT,
  created_at TEXT NOT NULL
);
INSERT INTO api_keys VALUES ('old', '${"a".repeat(64)}', 'acme', 'api', 'legacy', '["smart"]', '2025-01-01T00:00:00.000Z');
`;

describe("SQLite key store migration", () => {
  it("adds the limits column to an existing database, keeping its keys, once", async () => {
    const db = openDatabase(":memory:");
    db.exec(OLD_SCHEMA);
    const store = createSqliteKeyStore(db);
    expect(await store.get("old")).toEqual({
      id: "old",
      org: "acme",
      role: "api",
      name: "legacy",
      sha256: "a".repeat(64),
      models: ["smart"],
      createdAt: "2025-01-01T00:00:00.000Z",
    });
    const limited = {
      id: "new",
      org: "acme",
      role: "api" as const,
      sha256: "b".repeat(64),
      budgets: [{ period: "day" as const, limitUsd: 3 }],
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    await store.create(limited);
    // A second store over the migrated database (the next start) must not try to add the column again.
    const again = createSqliteKeyStore(db);
    expect(await again.get("new")).toEqual(limited);
    const columns = db.prepare("PRAGMA table_info(api_keys)").all() as unknown as { name: string }[];
    expect(columns.filter((c) => c.name === "limits")).toHaveLength(1);
  });

  it("refuses to lift a limit it cannot read", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteKeyStore(db);
    db.exec(
      `INSERT INTO api_keys (id, sha256, org, role, created_at, limits)
       VALUES ('bad', '${"c".repeat(64)}', 'acme', 'api', 't0', '{"budgets":[{"period":"day","limitUsd":-1}]}')`,
    );
    await expect(store.get("bad")).rejects.toThrow();
  });
});
