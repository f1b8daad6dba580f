import {
  chmodSync,
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
function holderOf(pidFile: string): number {
  try {
    return Number.parseInt(readFileSync(pidFile, "utf8").trim().split(" ")[0] ?? "", 10);
  } catch {
    return Number.NaN;
  }
}

/**
 * Tries to take the lock: the open connection holding it, or undefined while another holds it.
 *
 * SQLite opens (and creates) the file itself, never this code: POSIX drops every record lock a process
 * holds on a file when the process closes any descriptor of that file, and SQLite's own opens in one
 * process share a descriptor so that they do not.
 */
function tryLock(lockPath: string): DatabaseSync | undefined {
  const lock = new DatabaseSync(lockPath);
  try {
    // Not WAL: a rollback-journal database's EXCLUSIVE lock shuts every other connection out, and
    // `locking_mode = EXCLUSIVE` keeps it after the statement. A held lock answers at once (no wait).
    lock.exec(
      "PRAGMA busy_timeout = 0; PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;",
    );
    return lock;
  } catch (err) {
    lock.close();
    if (/locked|busy/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
}

/**
 * Tries to take the lock this many times, a few milliseconds apart at random: BEGIN EXCLUSIVE climbs
 * from a shared lock, so two starters at the same moment can each hold the other off, and both would
 * give up at once although neither runs.
 */
const LOCK_TRIES = 8;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The connections holding locks, until released: a connection nothing refers to is garbage, and
 * collecting it closes it, which would let the lock go while the process still runs.
 */
const holding = new Set<DatabaseSync>();

export function lockDataDir(
  dataDir: string,
  pid = process.pid,
  random: () => number = Math.random,
): DataDirLock {
  // The directory holds the database and the audit signing key: its owner's alone when made here.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const lockPath = lockPathOf(dataDir);
  // Beside the lock, so that a data directory linking to another's database names that one's holder.
  const pidFile = join(dirname(lockPath), LOCK_FILE);
  let lock: DatabaseSync | undefined;
  for (let attempt = 0; attempt < LOCK_TRIES && !lock; attempt++) {
    if (attempt > 0) pause(5 + Math.floor(random() * 25));
    lock = tryLock(lockPath);
  }
  if (!lock) throw new DataDirInUseError(dataDir, holderOf(pidFile));
  const held = lock;
  holding.add(held);
  try {
    chmodSync(lockPath, PRIVATE_FILE);
    const line = `${[pid, startTime(pid)].filter((x) => x !== undefined).join(" ")}\n`;
    // Ours now: a file left by a gateway that was killed is replaced, made anew with the owner-only mode.
    rmSync(pidFile, { force: true });
    const fd = openSync(pidFile, "wx", PRIVATE_FILE);
    writeSync(fd, line);
    closeSync(fd);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // The file goes only while it is still ours, then the lock.
        try {
          if (readFileSync(pidFile, "utf8") === line) rmSync(pidFile, { force: true });
        } catch {
          // Gone already.
        }
        holding.delete(held);
        held.close();
      },
    };
  } catch (err) {
    holding.delete(held);
    held.close();
    throw err;
  }
}
