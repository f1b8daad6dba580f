import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openOutbox } from "../../core/events/sqlite-outbox.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { DATABASE_FILE, DataDirInUseError, lockDataDir } from "../local/data-dir-lock.ts";

/**
 * `npm run events:redrive [-- --subscription budget-alerts]`
 *
 * Portable mode's dead letters back to the local bus: every event a subscription gave up on (after about
 * 24 hours of retries) is retried again, from a fresh attempt count, when the gateway next starts. A
 * usage event, however old, is counted once: retention keeps the cost aggregator's marker of an event
 * while the event is in the outbox, so one counted before it failed (its alert step failing) is known. Runs
 * with the gateway stopped (it takes the data directory's lock), on `GATEWAY_DATA_DIR` (default `.data`).
 * Exit 0: done (the count is printed); 1: the gateway is running; 2: usage error, or no database there.
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
  // A mistyped directory must not get a fresh, empty database and a report of success.
  if (!existsSync(join(dataDir, DATABASE_FILE))) {
    process.stderr.write(`No gateway database in ${dataDir} (set GATEWAY_DATA_DIR to the gateway's).\n`);
    return 2;
  }
  const lock = lockDataDir(dataDir);
  try {
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    try {
      const outbox = openOutbox(db);
      const dead = outbox.deadLetters();
      if (values.subscription !== undefined && !dead.has(values.subscription)) {
        const known = [...dead.keys()].join(", ") || "none";
        process.stdout.write(
          `No dead letters for subscription '${values.subscription}' (subscriptions with dead letters: ${known}).\n`,
        );
        return 0;
      }
      const names = values.subscription ? [values.subscription] : [...dead.keys()];
      let count = 0;
      for (const name of names) count += outbox.redrive(name);
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
  const running = err instanceof DataDirInUseError;
  // parseArgs' own errors (an unknown option, a missing value) are usage errors: say how it is used.
  const usage = err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS");
  process.stderr.write(
    running
      ? `The gateway (pid ${err.pid}) is running on this data directory: stop it, run events:redrive, then start it again.\n`
      : `${err instanceof Error ? err.message : String(err)}\n${usage ? `${USAGE}\n` : ""}`,
  );
  process.exitCode = running ? 1 : 2;
}
