import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreBusyError } from "../../../core/storage/errors.ts";
import { openDatabase, transaction } from "../../../core/storage/sqlite.ts";
import { type GroupCommit, groupCommitFor } from "../../../core/storage/sqlite-group-commit.ts";

let dir = "";
let db: DatabaseSync;
const file = () => join(dir, "g.db");
const rows = (from = db) =>
  (from.prepare("SELECT v FROM t ORDER BY v").all() as Array<{ v: string }>).map((r) => r.v);
const insert =
  (v: string, on = db) =>
  () =>
    on.prepare("INSERT INTO t (v) VALUES (?)").run(v).changes;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `check` on a connection of its own (busy timeout `busyMs`) and its group commit, while another
 * connection (another process, as far as SQLite knows) holds the write lock.
 */
async function whileLocked(
  busyMs: number,
  check: (conn: DatabaseSync, g: GroupCommit, other: DatabaseSync) => Promise<void>,
): Promise<void> {
  const conn = new DatabaseSync(file());
  conn.exec(`PRAGMA busy_timeout = ${busyMs}`);
  const other = openDatabase(file());
  other.exec("BEGIN IMMEDIATE");
  try {
    await check(conn, groupCommitFor(conn), other);
  } finally {
    if (other.isTransaction) other.exec("ROLLBACK");
    conn.close();
    other.close();
  }
}

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
    const g = groupCommitFor(db);
    g.onCommit(() => commits++);
    const a = g.run(insert("a"));
    const b = g.run(insert("b"));
    expect([rows(), g.idle]).toEqual([[], false]);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect([rows(), commits, g.idle]).toEqual([["a", "b"], 1, true]);
  });

  it("rolls back and rejects a failing piece alone; the rest of its window commits", async () => {
    const g = groupCommitFor(db);
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
    const g = groupCommitFor(db);
    const done = g.run(insert("now"));
    g.flush();
    expect([rows(), g.idle]).toEqual([["now"], true]);
    await done;
  });

  it("rejects work a caller waits on, writing nothing, when it cannot begin (another writer holds the lock)", () =>
    whileLocked(0, async (conn, g, other) => {
      // A transient condition the caller can retry, not a failure of the gateway's.
      await expect(g.soon(insert("x", conn))).rejects.toBeInstanceOf(StoreBusyError);
      expect(() => g.now(insert("y", conn))).toThrow(StoreBusyError);
      other.exec("ROLLBACK");
      expect([rows(conn), conn.isTransaction]).toEqual([[], false]);
    }));

  it("keeps work nobody waits on until the lock is free, then commits it once", () =>
    whileLocked(0, async (conn, g, other) => {
      let settled = false;
      const kept = g.run(insert("kept", conn)).finally(() => {
        settled = true;
      });
      await sleep(100);
      expect([settled, g.idle, rows(conn)]).toEqual([false, false, []]);
      other.exec("COMMIT");
      expect(await kept).toBe(1);
      expect(rows(conn)).toEqual(["kept"]);
    }));

  it("waits for the lock once, then only looks whether it is free: the event loop stays free meanwhile", () =>
    whileLocked(2_000, async (conn, g, other) => {
      const kept = g.run(insert("kept", conn));
      // The first try waits out the busy timeout (2 s here, 5 s as shipped); the tries after it do not.
      await sleep(2_100);
      let longest = 0;
      let last = performance.now();
      const tick = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 10);
      // Any other write of the connection meanwhile looks too, and is refused at once: a transaction,
      // or a statement of its own (a delivery cursor, say).
      const started = performance.now();
      expect(() => g.now(insert("now", conn))).toThrow(StoreBusyError);
      expect(() => insert("alone", conn)()).toThrow(/locked/);
      // Bounds far below the 2 s a wait would take: a loaded machine must not fail this.
      expect(performance.now() - started).toBeLessThan(1_000);
      await sleep(1_500);
      clearInterval(tick);
      expect(longest).toBeLessThan(1_000);
      other.exec("COMMIT");
      expect(await kept).toBe(1);
      expect(conn.prepare("PRAGMA busy_timeout").get()).toEqual({ timeout: 2_000 });
    }));

  it("rejects work a caller waits on and keeps the rest, when one window holds both", () =>
    whileLocked(0, async (conn, g, other) => {
      const kept = g.run(insert("kept", conn));
      await expect(g.soon(insert("waited", conn))).rejects.toBeInstanceOf(StoreBusyError);
      other.exec("COMMIT");
      expect(await kept).toBe(1);
      expect(rows(conn)).toEqual(["kept"]);
    }));

  it("gives that work up once stopping, for its caller to log, rather than wait for the lock", () =>
    whileLocked(0, async (conn, g) => {
      const kept = g.run(insert("kept", conn));
      await sleep(20);
      // A flush alone keeps it: only a stop gives it up.
      g.flush();
      expect(g.idle).toBe(false);
      g.stop();
      await expect(kept).rejects.toBeInstanceOf(StoreBusyError);
      expect(g.idle).toBe(true);
    }));
});

describe("a transaction on the same connection", () => {
  it("carries the open window's work in its own commit, which answers the window", async () => {
    let commits = 0;
    const g = groupCommitFor(db);
    g.onCommit(() => commits++);
    const queued = g.run(insert("queued"));
    expect(transaction(db, insert("now"))).toBe(1);
    expect([rows(), g.idle, commits]).toEqual([["now", "queued"], true, 1]);
    expect(await queued).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(commits).toBe(1);
  });

  it("rolls back only its own writes when it throws; the carried work commits", async () => {
    const queued = groupCommitFor(db).run(insert("queued"));
    expect(() =>
      transaction(db, () => {
        insert("mine")();
        throw new Error("refused");
      }),
    ).toThrow("refused");
    expect(rows()).toEqual(["queued"]);
    await expect(queued).resolves.toBe(1);
  });

  it("rolls back everything it wrote when it throws with no window open", () => {
    expect(() =>
      transaction(db, () => {
        insert("a")();
        insert("a")();
      }),
    ).toThrow(/UNIQUE/);
    expect([rows(), db.isTransaction]).toEqual([[], false]);
  });

  it("leaves the window queued when it cannot begin, and the window commits once the lock is free", async () => {
    const impatient = new DatabaseSync(file());
    impatient.exec("PRAGMA busy_timeout = 0");
    const other = openDatabase(file());
    try {
      const g = groupCommitFor(impatient);
      other.exec("BEGIN IMMEDIATE");
      const queued = g.run(insert("queued", impatient));
      expect(() => transaction(impatient, insert("now", impatient))).toThrow(/locked|busy/i);
      expect(g.idle).toBe(false);
      other.exec("ROLLBACK");
      await expect(queued).resolves.toBe(1);
      expect(rows(impatient)).toEqual(["queued"]);
    } finally {
      impatient.close();
      other.close();
    }
  });
});

describe("group commit after the database closed", () => {
  it("rejects the open window instead of throwing from its timer", async () => {
    const own = openDatabase(join(dir, "closing.db"));
    const g = groupCommitFor(own);
    const pending = g.run(() => 1);
    own.close();
    await expect(pending).rejects.toThrow();
  });
});

describe("a commit that fails", () => {
  it("rejects the work it carried, and throws nothing from its timer", async () => {
    // A deferred foreign key is checked at COMMIT, after every piece went in.
    db.exec(`PRAGMA foreign_keys = ON; CREATE TABLE p (id TEXT PRIMARY KEY);
      CREATE TABLE c (pid TEXT REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)`);
    const g = groupCommitFor(db);
    const orphan = g.run(() => db.prepare("INSERT INTO c (pid) VALUES ('none')").run().changes);
    await expect(orphan).rejects.toThrow(/FOREIGN KEY/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([g.idle, db.isTransaction]).toEqual([true, false]);
  });
});

describe("work a caller waits on (soon)", () => {
  it("commits what arrived in one event-loop turn together, at the end of that turn", async () => {
    let commits = 0;
    const g = groupCommitFor(db);
    g.onCommit(() => commits++);
    const queued = g.run(insert("queued"));
    const waited = [g.soon(insert("a")), g.soon(insert("b"))];
    expect(rows()).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect([rows(), commits, g.idle]).toEqual([["a", "b", "queued"], 1, true]);
    expect(await Promise.all([queued, ...waited])).toEqual([1, 1, 1]);
  });

  it("rejects a failing piece alone", async () => {
    const g = groupCommitFor(db);
    const results = await Promise.allSettled([g.soon(insert("a")), g.soon(insert("a")), g.soon(insert("b"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(rows()).toEqual(["a", "b"]);
  });
});
