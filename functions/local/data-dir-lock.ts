import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { PRIVATE_DIR, PRIVATE_FILE } from "../../core/storage/sqlite.ts";

/**
 * One gateway process per database: a second one on the same SQLite file would run a second event bus
 * (delivering every event twice) and take the first one's requests in flight for a dead process's,
 * charging them at its start. The lock is the operating system's: an exclusive SQLite lock (a POSIX
 * record lock) on `gateway.sqlite.lock` beside the database's real path, held for the process's life.
 * The kernel drops it when the process ends however it ends, and it holds across PID namespaces (two
 * containers on one volume) and across data directories that link to one database. `gateway.pid`
 * only says who holds it, for people, scripts and the error message.
 */
export class DataDirInUseError extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `Another gateway (pid ${Number.isNaN(pid) ? "unknown" : pid}) is using the data directory ${dataDir}. ` +
        "Run one gateway per data directory (GATEWAY_DATA_DIR). The pid may be another container's.",
    );
    this.name = "DataDirInUseError";
    this.pid = pid;
  }
}

export const LOCK_FILE = "gateway.pid";
/** The database file, as portable mode names it in its data directory. */
export const DATABASE_FILE = "gateway.sqlite";

export interface DataDirLock {
  release(): void;
}

/** Linux's /proc/<pid>/stat start time (field 22, clock ticks since boot): with the id, who wrote the file. */
function startTime(pid: number): string | undefined {
  try {
    // "<pid> (<comm>) <state> …": the name may hold spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Where the lock lives: beside the database's real file, so data directories linking to one share it. */
function lockPathOf(dataDir: string): string {
  const database = join(dataDir, DATABASE_FILE);
  const real = existsSync(database) ? realpathSync(database) : database;
  return join(dirname(real), `${DATABASE_FILE}.lock`);
}

/** The holder's id as its `gateway.pid` says, NaN when the file is gone or unreadable. */
function holderOf(dataDir: string): number {
  try {
    return Number.parseInt(readFileSync(join(dataDir, LOCK_FILE), "utf8").trim().split(" ")[0] ?? "", 10);
  } catch {
    return Number.NaN;
  }
}

export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  // The directory holds the database and the audit signing key: its owner's alone when made here.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const lockPath = lockPathOf(dataDir);
  closeSync(openSync(lockPath, "a", PRIVATE_FILE));
  const lock = new DatabaseSync(lockPath);
  try {
    // Not WAL: a rollback-journal database's EXCLUSIVE lock shuts every other connection out, and
    // `locking_mode = EXCLUSIVE` keeps it after the statement. A held lock answers at once (no wait).
    lock.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
  } catch (err) {
    lock.close();
    if (/locked|busy/i.test(String((err as Error).message)))
      throw new DataDirInUseError(dataDir, holderOf(dataDir));
    throw err;
  }
  const file = join(dataDir, LOCK_FILE);
  const line = `${[pid, startTime(pid)].filter((x) => x !== undefined).join(" ")}\n`;
  // Ours now: a file left by a gateway that was killed is replaced, made anew with the owner-only mode.
  rmSync(file, { force: true });
  const fd = openSync(file, "wx", PRIVATE_FILE);
  writeSync(fd, line);
  closeSync(fd);
  return {
    release: () => {
      // The file goes only while it is still ours, then the lock.
      try {
        if (readFileSync(file, "utf8") === line) rmSync(file, { force: true });
      } catch {
        // Gone already.
      }
      lock.close();
    },
  };
}
