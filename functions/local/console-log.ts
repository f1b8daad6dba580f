import type { Log, LogFields } from "../../core/log.ts";

/** Where lines go: `out` for info, `outNow` (else `out`) for warnings, `err` for errors. */
export interface LogSink {
  out(text: string): void;
  err(text: string): void;
  /** A stdout line that must not wait: a warning may be the only record of what it says (an alert). */
  outNow?(text: string): void;
}

/** How long info lines wait for company, and how much may wait: one write then carries them all. */
const FLUSH_MS = 10;
const FLUSH_BYTES = 64 * 1024;

/**
 * Batches stdout lines: a write per line was a system call per request (stdout writes are synchronous
 * for files and pipes on Linux). Lines leave within FLUSH_MS, at once when 64 KiB wait, before any
 * warning or error line (so the streams keep their order), and at process exit. A hard kill can lose
 * the last FLUSH_MS of info lines; warnings and errors are never held: a budget alert's log line is
 * written before its delivery counts as done, so a kill cannot lose it after the bus moved past it.
 */
export function bufferedSink(sink: LogSink, flushMs = FLUSH_MS): LogSink & { flush(): void } {
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    sink.out(text);
  };
  return {
    out(text) {
      pending += text;
      if (pending.length >= FLUSH_BYTES) flush();
      // unref: waiting lines must not keep a stopping process alive; exit flushes them.
      else timer ??= setTimeout(flush, flushMs).unref();
    },
    err(text) {
      flush();
      sink.err(text);
    },
    outNow(text) {
      flush();
      sink.out(text);
    },
    flush,
  };
}

let stdoutSink: (LogSink & { flush(): void }) | undefined;

/** One buffered sink per process over stdout and stderr, flushed on exit. */
function processSink(): LogSink {
  if (!stdoutSink) {
    const sink = bufferedSink({
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
    process.once("exit", () => sink.flush());
    stdoutSink = sink;
  }
  return stdoutSink;
}

/** One JSON object per line on stdout (stderr for errors), the shape Powertools Logger writes in Lambda. */
export function createConsoleLog(service: string, sink: LogSink = processSink()): Log {
  const line = (level: string, message: string, fields?: LogFields) =>
    `${JSON.stringify({ level, message, service, timestamp: new Date().toISOString(), ...fields })}\n`;
  return {
    info: (m, f) => sink.out(line("INFO", m, f)),
    warn: (m, f) => (sink.outNow ?? sink.out)(line("WARN", m, f)),
    error: (m, f) => sink.err(line("ERROR", m, f)),
  };
}
