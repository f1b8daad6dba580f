import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * One gateway process per data directory: a second one on the same SQLite file would run a second
 * event bus and deliver every event twice. `gateway.pid` holds the owner's process id, created
 * exclusively; a file whose process is gone (a hard kill) is taken over.
 */
export class DataDirInUseError extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `Another gateway (pid ${pid}) is using the data directory ${dataDir}. Run one gateway per data ` +
        `directory (GATEWAY_DATA_DIR), or remove ${join(dataDir, LOCK_FILE)} if that process is not a gateway.`,
    );
    this.name = "DataDirInUseError";
    this.pid = pid;
  }
}

export const LOCK_FILE = "gateway.pid";

export interface DataDirLock {
  release(): void;
}

/**
 * Whether a process with this id exists (EPERM: it does, under another user) and still runs: a killed
 * process its parent has not reaped yet (a zombie, state `Z` in Linux's /proc/<pid>/stat) holds nothing,
 * and would otherwise block a restart until it is reaped.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

function zombie(pid: number): boolean {
  try {
    // "<pid> (<comm>) <state> …": the name may hold spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false; // no /proc (macOS): kill(0) is all there is
  }
}

export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  // Two tries: the second follows the removal of a dead owner's file.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number.parseInt(readFileSync(file, "utf8"), 10);
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) throw new DataDirInUseError(dataDir, owner);
    // The owner is gone (a hard kill left its file behind), or the file is unreadable: take it over.
    rmSync(file, { force: true });
  }
  throw new DataDirInUseError(dataDir, Number.NaN);
}
