import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { createGroupCommit } from "../../../core/storage/sqlite-group-commit.ts";

let dir = "";
let db: DatabaseSync;
const file = () => join(dir, "g.db");
const rows = (from = db) =>
  (from.prepare("SELECT v FROM t ORDER BY v").all() as Array<{ v: string }>).map((r) => r.v);
const turn = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  db = openDatabase(file());
  db.exec("CREATE TABLE t (v TEXT PRIMARY KEY)");
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("group commit", () => {
  it("runs the work of one window in one commit and answers each piece with its own result", async () => {
    let commits = 0;
    const g = createGroupCommit(db, 20, () => commits++);
    const insert = (v: string) => () => db.prepare("INSERT INTO t (v) VALUES (?)").run(v).changes;
    const a = g.run(insert("a"));
    await turn();
    const b = g.run(insert("b"));
    expect([rows(), g.idle]).toEqual([[], false]);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect([rows(), commits, g.idle]).toEqual([["a", "b"], 1, true]);
  });

  it("rolls back and rejects a failing piece alone; the rest of its window commits", async () => {
    const g = createGroupCommit(db, 1);
    const insert = (v: string) => () => void db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
    const results = await Promise.allSettled([
      g.run(insert("a")),
      g.run(() => {
        insert("half")();
        throw new Error("piece failed");
      }),
      g.run(insert("a")),
      g.run(insert("b")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(rows()).toEqual(["a", "b"]);
  });

  it("flush() commits the open window at once", async () => {
    const g = createGroupCommit(db, 60_000);
    const done = g.run(() => void db.prepare("INSERT INTO t (v) VALUES ('now')").run());
    g.flush();
    await done;
    expect(rows()).toEqual(["now"]);
  });

  it("rejects the whole window, writing nothing, when it cannot begin (another writer holds the lock)", async () => {
    const impatient = new DatabaseSync(file());
    impatient.exec("PRAGMA busy_timeout = 0");
    const other = openDatabase(file());
    other.exec("BEGIN IMMEDIATE");
    try {
      const g = createGroupCommit(impatient, 1);
      const pieces = [g.run(() => void impatient.prepare("INSERT INTO t (v) VALUES ('x')").run())];
      await expect(pieces[0]).rejects.toThrow(/locked|busy/i);
      other.exec("ROLLBACK");
      expect([rows(impatient), impatient.isTransaction]).toEqual([[], false]);
    } finally {
      impatient.close();
      other.close();
    }
  });
});

describe("group commit after the database closed", () => {
  it("rejects the open window instead of throwing from its timer", async () => {
    const own = openDatabase(join(dir, "closing.db"));
    const g = createGroupCommit(own, 1);
    const pending = g.run(() => 1);
    own.close();
    await expect(pending).rejects.toThrow();
  });
});
