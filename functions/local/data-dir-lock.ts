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

/** Whether a process with this id exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
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
