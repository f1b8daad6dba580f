import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Gives the whole run one temporary directory and removes it at the end, so the key files, SQLite
 * databases and SST logs the suites write under `os.tmpdir()` do not pile up in the machine's `/tmp`
 * (a run left about a dozen behind). Workers start after this and inherit `TMPDIR`; Node's
 * `os.tmpdir()` reads it on every call.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-test-"));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
