import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DATABASE_FILE,
  DataDirInUseError,
  LOCK_FILE,
  lockDataDir,
} from "../../../functions/local/data-dir-lock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "gw-lock-"));
  dirs.push(d);
  return d;
};

/** A separate process that takes the directory's lock and holds it until killed. */
async function holdLockInChild(dir: string): Promise<ChildProcess> {
  const lockModule = join(import.meta.dirname, "../../../functions/local/data-dir-lock.ts");
  const child = spawn(process.execPath, [
    "--input-type=module",
    "-e",
    `const { lockDataDir } = await import(${JSON.stringify(lockModule)}); lockDataDir(${JSON.stringify(dir)}); console.log("held"); setInterval(() => {}, 1000);`,
  ]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

/** What another process gets trying for the directory's lock: `won` (then held 300 ms) or `refused`. */
function tryInChild(dir: string, at = Date.now()): Promise<string> {
  const lockModule = join(import.meta.dirname, "../../../functions/local/data-dir-lock.ts");
  const script = `const { lockDataDir } = await import(${JSON.stringify(lockModule)});
    while (Date.now() < ${at}) {}
    try { const l = lockDataDir(${JSON.stringify(dir)}); console.log("won"); setTimeout(() => l.release(), 300); }
    catch { console.log("refused"); }`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script]);
  return new Promise((resolve) => {
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", () => resolve(out.trim()));
  });
}

/** The id of a process that has exited: a hard-killed gateway's leftover. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

describe("lockDataDir", () => {
  it("writes this process's id, and removes the file on release", () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").split(" ")[0]?.trim()).toBe(String(process.pid));
    // Its owner's alone, like the database beside it; and the lock's database, which holds nothing,
    // keeps no journal file beside it (one SQLite would make with the process's umask).
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, "gateway.sqlite.lock"].sort());
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it.runIf(process.platform === "linux")(
    "takes over a file naming a live process that started after its writer (an id reused: a restarted container's pid 1)",
    () => {
      const dir = tempDir();
      // This very process's id, as the gateway before a container restart had it, with that one's start.
      writeFileSync(join(dir, LOCK_FILE), `${process.pid} 1\n`);
      lockDataDir(dir).release();
    },
  );

  it("refuses a second gateway on the same directory while the first runs, naming it", () => {
    const dir = tempDir();
    const first = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(`Another gateway (pid ${process.pid})`);
    first.release();
    lockDataDir(dir).release();
  });

  it("takes over the file a hard-killed gateway left behind", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").split(" ")[0]?.trim()).toBe(String(process.pid));
    // Its owner's alone, like the database beside it.
    expect(statSync(join(dir, LOCK_FILE)).mode & 0o777).toBe(0o600);
    lock.release();
  });

  it.runIf(process.platform === "linux")(
    "takes over the file of a killed gateway its parent has not reaped yet (a zombie)",
    async () => {
      // `exec sleep` replaces the shell, and sleep never reaps: the backgrounded child stays a zombie.
      const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"]);
      try {
        const zombie = Number(
          await new Promise<string>((r) => parent.stdout.once("data", (d) => r(String(d)))),
        );
        for (let i = 0; i < 50 && !readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z "); i++)
          await new Promise((r) => setTimeout(r, 20));
        const dir = tempDir();
        writeFileSync(join(dir, LOCK_FILE), `${zombie}\n`);
        lockDataDir(dir).release();
      } finally {
        parent.kill();
      }
    },
  );

  it("takes over an unreadable file", () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), "garbage");
    lockDataDir(dir).release();
  });

  it("refuses while another process holds the lock, whatever its gateway.pid says, until it is killed", async () => {
    const dir = tempDir();
    const holder = await holdLockInChild(dir);
    try {
      // What a gateway in another container (PID namespace) leaves: an id and start that name nothing here.
      writeFileSync(join(dir, LOCK_FILE), "1 1\n");
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    } finally {
      holder.kill("SIGKILL");
      await new Promise((r) => holder.once("exit", r));
    }
    // The kernel dropped the killed holder's lock.
    lockDataDir(dir).release();
  });

  it("lets exactly one of two gateways starting at the same moment have it", async () => {
    for (let round = 0; round < 8; round++) {
      const dir = tempDir();
      // Both are loaded and waiting by then; they try within the same millisecond.
      const at = Date.now() + 600;
      const outcomes = await Promise.all([tryInChild(dir, at), tryInChild(dir, at)]);
      expect(outcomes.sort()).toEqual(["refused", "won"]);
    }
  }, 30_000);

  it("keeps holding it after a second try in the same process was refused", async () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    // A descriptor of the file opened and closed in this process would have let every lock on it go.
    expect(await tryInChild(dir)).toBe("refused");
    lock.release();
    expect(await tryInChild(dir)).toBe("won");
  });

  it("is one lock for data directories whose databases link to one file", () => {
    const first = tempDir();
    const second = tempDir();
    writeFileSync(join(first, DATABASE_FILE), "");
    symlinkSync(join(first, DATABASE_FILE), join(second, DATABASE_FILE));
    writeFileSync(join(second, LOCK_FILE), "4242\n");
    const lock = lockDataDir(first, 31_337);
    // The holder is named from beside the lock, not from a stale file of the directory that links.
    expect(() => lockDataDir(second)).toThrow("Another gateway (pid 31337)");
    lock.release();
    lockDataDir(second).release();
  });

  it("leaves a gateway.pid it no longer wrote on release", () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), "4242\n");
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe("4242\n");
  });

  it("creates a data directory that does not exist yet", () => {
    const dir = join(tempDir(), "nested", "data");
    lockDataDir(dir).release();
  });
});
