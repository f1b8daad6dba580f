import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_DIR, PRIVATE_FILE } from "../../core/storage/sqlite.ts";

/**
 * One gateway process per data directory: a second one on the same SQLite file would run a second
 * event bus and deliver every event twice. `gateway.pid` holds the owner's process id (and its start
 * time), created exclusively; a file whose process is gone (a hard kill) is taken over.
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
 * Whether the process that wrote the file still runs. A process with its id must exist (EPERM: it does,
 * under another user), must not be a killed one its parent has not reaped yet (a zombie, state `Z`),
 * and must have started when the writer did: ids are reused, and a container restarted on the same
 * volume runs its new gateway under the old one's id (often 1), so an id alone would name itself.
 */
function alive(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // /proc/<pid>/stat is readable whoever owns the process.
  const stat = procStat(pid);
  // No /proc (macOS): kill(0) is all there is.
  if (!stat) return true;
  return stat.state !== "Z" && (started === undefined || stat.started === started);
}

/** Linux's /proc/<pid>/stat: the state (field 3) and the start time in clock ticks since boot (field 22). */
function procStat(pid: number): { state: string; started: string } | undefined {
  try {
    // "<pid> (<comm>) <state> …": the name may hold spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", started: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  // The directory holds the database and the audit signing key: its owner's alone when made here.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const file = join(dataDir, LOCK_FILE);
  // The id first (what people and scripts read), then the start time where /proc tells it. Made before
  // the file exists: another starter reading it in between would find it empty, and take it over.
  const line = `${[pid, procStat(pid)?.started].filter((x) => x !== undefined).join(" ")}\n`;
  // Two tries: the second follows the removal of a dead owner's file.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", PRIVATE_FILE);
      writeSync(fd, line);
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const [id, started] = readFileSync(file, "utf8").trim().split(" ");
    const owner = Number.parseInt(id ?? "", 10);
    if (Number.isInteger(owner) && owner > 0 && alive(owner, started))
      throw new DataDirInUseError(dataDir, owner);
    // The owner is gone (a hard kill left its file behind), or the file is unreadable: take it over.
    rmSync(file, { force: true });
  }
  throw new DataDirInUseError(dataDir, Number.NaN);
}
