import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openOutbox } from "../../core/events/sqlite-outbox.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { DataDirInUseError, lockDataDir } from "../local/data-dir-lock.ts";

/**
 * `npm run events:redrive [-- --subscription budget-alerts]`
 *
 * Portable mode's dead letters back to the local bus: every event a subscription gave up on (after about
 * 24 hours of retries) is retried again, from a fresh attempt count, when the gateway next starts. Runs
 * with the gateway stopped (it takes the data directory's lock), on `GATEWAY_DATA_DIR` (default `.data`).
 * Exit 0: done (the count is printed); 1: the gateway is running; 2: usage error.
 */
const USAGE = "usage: npm run events:redrive [-- --subscription <name>]";

function main(): number {
  const { values } = parseArgs({
    options: { subscription: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dataDir = resolve(process.env.GATEWAY_DATA_DIR || ".data");
  const lock = lockDataDir(dataDir);
  try {
    const db = openDatabase(join(dataDir, "gateway.sqlite"));
    try {
      const count = openOutbox(db).redrive(values.subscription);
      process.stdout.write(
        `${count} dead-lettered event(s) will be delivered again when the gateway starts.\n`,
      );
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof DataDirInUseError ? 1 : 2;
}
