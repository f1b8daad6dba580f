import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, readSnapshot, transaction } from "../../../core/storage/sqlite.ts";

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("openDatabase", () => {
  it("makes the database, its WAL files and the directory it makes readable by their owner only", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "sqlite-mode-")), "data");
    const path = join(dir, "gateway.sqlite");
    const db = openDatabase(path);
    db.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1)");
    expect([dir, path, `${path}-wal`, `${path}-shm`].map(mode)).toEqual(["700", "600", "600", "600"]);
    db.close();
  });

  it("opens a database that is already there, keeping what it holds", () => {
    const path = join(mkdtempSync(join(tmpdir(), "sqlite-mode-")), "gateway.sqlite");
    const first = openDatabase(path);
    first.exec("CREATE TABLE t (a); INSERT INTO t VALUES (7)");
    first.close();
    const again = openDatabase(path);
    expect(again.prepare("SELECT a FROM t").get()).toEqual({ a: 7 });
    again.close();
  });
});

describe("transaction", () => {
  it("joins the transaction already open, so the inner writes commit or roll back with the outer", () => {
    const db = openDatabase(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    transaction(db, () => {
      insert.run("outer");
      transaction(db, () => insert.run("inner"));
    });
    expect(() =>
      transaction(db, () => {
        insert.run("outer-2");
        transaction(db, () => insert.run("inner-2"));
        throw new Error("undo both");
      }),
    ).toThrow("undo both");
    expect(
      db
        .prepare("SELECT v FROM t ORDER BY rowid")
        .all()
        .map((r) => r.v),
    ).toEqual(["outer", "inner"]);
  });

  it("undoes a joined call's writes alone when it throws and its caller goes on", () => {
    const db = openDatabase(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    transaction(db, () => {
      insert.run("outer");
      try {
        transaction(db, () => {
          insert.run("inner-partial");
          throw new Error("inner fails");
        });
      } catch {
        // The caller handles it and commits the rest.
      }
    });
    const rows = db.prepare("SELECT v FROM t ORDER BY rowid").all();
    expect(rows.map((r) => r.v)).toEqual(["outer"]);
  });

  it("does not join a read snapshot's transaction: a write there fails as it always did", () => {
    const db = openDatabase(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    expect(() =>
      readSnapshot(db, () => transaction(db, () => db.prepare("INSERT INTO t (v) VALUES ('x')").run())),
    ).toThrow();
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
  });
});
