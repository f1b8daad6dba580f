import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

describe("the SQLite registry store's load", () => {
  it("reads what is committed at once while another process holds the write lock, without waiting for it", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "registry-read-")), "gateway.sqlite");
    const db = openDatabase(path);
    const store = createSqliteRegistryStore(db);
    await store.create("org", { id: "acme" });
    const before = await store.load();
    // A CLI (or an admin write of another process) in the middle of a write transaction.
    const other = openDatabase(path);
    other.exec("BEGIN IMMEDIATE");
    other.exec("UPDATE registry_version SET version = version + 1");
    const started = performance.now();
    const during = await store.load();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(during.version).toBe(before.version);
    expect([...during.orgs.keys()]).toEqual(["acme"]);
    other.exec("COMMIT");
    expect((await store.load()).version).toBe(before.version + 1);
    other.close();
    db.close();
  });
});
