import type { Log, LogFields } from "../../core/log.ts";

/** One JSON object per line on stdout (stderr for errors), the shape Powertools Logger writes in Lambda. */
export function createConsoleLog(
  service: string,
  write: (line: string, isError: boolean) => void = defaultWrite,
): Log {
  const line = (level: string, message: string, fields?: LogFields) =>
    JSON.stringify({ level, message, service, timestamp: new Date().toISOString(), ...fields });
  return {
    info: (m, f) => write(line("INFO", m, f), false),
    warn: (m, f) => write(line("WARN", m, f), false),
    error: (m, f) => write(line("ERROR", m, f), true),
  };
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(`${line}\n`);
}
