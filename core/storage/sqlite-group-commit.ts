import type { DatabaseSync, StatementSync } from "node:sqlite";
import { isLockBusy, StoreBusyError } from "./errors.ts";

/**
 * A connection's write batching. In WAL mode the commit (lock syscalls, WAL frame writes) is most of a
 * small write's CPU, so one commit should carry as much work as it can:
 * - `run` queues work nobody waits on (it runs after the response's last byte: usage events, budget
 *   settlements) for a window of WINDOW_MS; one BEGIN IMMEDIATE … COMMIT then carries the whole window.
 * - `soon` queues work a caller waits on (a budget reservation): the window then closes at the end of
 *   the event-loop turn, so the requests that arrived together share one commit.
 * - `now` is the connection's synchronous transaction (a rate-limit decision, the aggregator's batch): it
 *   also carries the open window's queued work, so under load the queued writes ride on commits that
 *   happen anyway instead of paying for their own.
 * Each queued piece runs in its own savepoint, so a failing piece is rolled back and rejected alone, and
 * `now`'s own work is rolled back alone when it throws. Every promise settles only after the commit, so a
 * resolved write is a durable one.
 *
 * A commit that cannot start because another process holds the write lock past the busy timeout
 * rejects the work a caller waits on (`soon`: the caller answers 503 at once), and keeps `run`'s work
 * for another try, with backoff, until the lock is free: no response waits on that work, and a usage
 * event or a settlement given up after a while would be spend lost. Until a commit starts again, no
 * statement on the connection waits for the lock (see `patientMs`). Only `stop` gives kept work up.
 */
export interface GroupCommit {
  /** Queues `work` for the open window; resolves with its result once a commit has carried it. */
  run<T>(work: () => T): Promise<T>;
  /**
   * Queues `work` that a caller waits on: the window closes at the end of this event-loop turn (a
   * setImmediate), so requests that arrived together share one commit at the cost of one turn.
   */
  soon<T>(work: () => T): Promise<T>;
  /** Runs `work` in a transaction now, committing the open window's queued work with it. */
  now<T>(work: () => T): T;
  /** Commits the open window now (or tries to: work the write lock keeps out stays kept). */
  flush(): void;
  /**
   * A graceful stop: commits the open window now, and from then on work whose commit cannot start (the
   * write lock held elsewhere) is rejected, for its caller to log, rather than kept for a retry. For
   * the connection's last moments: every store on it gives busy work up after this.
   */
  stop(): void;
  /** Calls `listener` after every commit that carried queued work. */
  onCommit(listener: () => void): void;
  /** True when no work waits for a commit. */
  readonly idle: boolean;
}

/**
 * How long queued work waits for company. The gateway queues after a response's last byte, so the window
 * costs no caller any latency; a hard kill loses at most this window, as it loses any request in flight.
 */
export const WINDOW_MS = 2;

/** Waits between tries of a window whose commit could not start: 250 ms, doubling to 1 s. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 1_000;
/**
 * Work kept for a retry, at most: past it, work is rejected for its caller to log (a usage event
 * whole), so a lock held for long at a high request rate cannot fill the memory.
 */
const MAX_KEPT = 10_000;

interface Window {
  jobs: Job[];
  timer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null;
  /** Tries so far whose commit could not start. */
  tries: number;
}

const close = (w: Window) => {
  if (w.timer) clearTimeout(w.timer);
  if (w.immediate) clearImmediate(w.immediate);
};

interface Job {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** `run`'s work: kept for another try when the commit cannot start. */
  keep: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

interface Statements {
  begin: StatementSync;
  commit: StatementSync;
  rollback: StatementSync;
  savepoint: StatementSync;
  release: StatementSync;
  undo: StatementSync;
}

/** One per connection: two batchers on one connection would nest transactions. */
const byConnection = new WeakMap<DatabaseSync, GroupCommit>();

export function groupCommitFor(db: DatabaseSync): GroupCommit {
  let g = byConnection.get(db);
  if (!g) {
    g = createGroupCommit(db);
    byConnection.set(db, g);
  }
  return g;
}

function createGroupCommit(db: DatabaseSync): GroupCommit {
  let sql: Statements | undefined;
  // Prepared on first use: a connection that only reads never needs them.
  const stmts = (): Statements =>
    (sql ??= {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT piece"),
      release: db.prepare("RELEASE piece"),
      undo: db.prepare("ROLLBACK TO piece"),
    });
  let open: Window | null = null;
  const listeners: Array<() => void> = [];
  /**
   * Set while this connection's own transaction runs its work (synchronously: node:sqlite is): work
   * that asks for a transaction then (a store write's `within`) joins it in a savepoint of its own.
   * Any other open transaction (a read snapshot's, one left open by a failure) is no place to join:
   * BEGIN fails loudly there, as it always did.
   */
  let inside = 0;

  /** Runs `work` inside a savepoint: its writes are undone alone if it throws. */
  const piece = (s: Statements, work: () => unknown): Outcome => {
    s.savepoint.run();
    try {
      const value = work();
      s.release.run();
      return { ok: true, value };
    } catch (err) {
      s.undo.run();
      s.release.run();
      return { ok: false, err };
    }
  };

  /** BEGIN IMMEDIATE; a write lock another process held past the busy timeout is StoreBusyError. */
  const begin = (s: Statements) => {
    try {
      s.begin.run();
    } catch (err) {
      if (isLockBusy(err)) {
        lookOnly();
        throw new StoreBusyError("The database is locked by another writer.", { cause: err });
      }
      throw err;
    }
    // The lock was free for this one: writers may wait for it again.
    waitAgain();
  };

  const abort = (s: Statements) => {
    // A closed database has no transaction to roll back, and says so by throwing.
    if (db.isOpen && db.isTransaction) s.rollback.run();
  };

  /**
   * One transaction: the open window's jobs, then `own` (if any). BEGIN comes first, so a BEGIN that
   * fails (busy past the timeout, database closed) takes nothing from the window; a failed COMMIT
   * rejects every carried job, since none of them was written.
   */
  function commitWith(own: (() => unknown) | undefined, s: Statements): Outcome {
    begin(s);
    const window = open;
    open = null;
    if (window) close(window);
    const jobs = window?.jobs ?? [];
    let mine: Outcome = { ok: true, value: undefined };
    const outcomes: Outcome[] = [];
    inside++;
    try {
      for (const job of jobs) outcomes.push(piece(s, job.work));
      // Alone, `own` needs no savepoint: if it throws, the rollback below undoes it.
      if (own) mine = jobs.length > 0 ? piece(s, own) : { ok: true, value: own() };
      s.commit.run();
    } catch (err) {
      abort(s);
      for (const job of jobs) job.reject(err);
      throw err;
    } finally {
      inside--;
    }
    jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.err);
    });
    // A listener that throws must not make committed work look failed.
    if (jobs.length > 0)
      for (const l of listeners) {
        try {
          l();
        } catch {
          // The listeners wake deliveries; the next commit wakes them again.
        }
      }
    return mine;
  }

  let stopping = false;
  /**
   * The busy timeout to go back to, while the write lock is known to be held elsewhere (kept work could
   * not commit); undefined otherwise. Meanwhile the connection waits for the lock nowhere, for any
   * statement (a delivery cursor, an audit write, a transaction): node:sqlite waits out the busy timeout
   * synchronously, so every writer that waited would stall the process, in turn, for as long as the
   * lock is held. They fail at once instead (a reservation: 503), and kept work looks again every
   * 250 ms to 1 s; the first commit that starts means the lock is free, and waiting comes back.
   */
  let patientMs: number | undefined;
  const lookOnly = () => {
    if (patientMs !== undefined) return;
    patientMs = Number((db.prepare("PRAGMA busy_timeout").get() as { timeout: number }).timeout);
    db.exec("PRAGMA busy_timeout = 0");
  };
  const waitAgain = () => {
    if (patientMs === undefined || stopping) return;
    db.exec(`PRAGMA busy_timeout = ${patientMs}`);
    patientMs = undefined;
  };

  /** Commits the open window; when its commit cannot start, keeps `run`'s work for another try. */
  function commitWindow(): void {
    const window = open;
    if (!window) return;
    try {
      commitWith(undefined, stmts());
    } catch (err) {
      // Only a BEGIN that failed leaves the window open and untouched. A failed COMMIT rejected its
      // jobs already, and their callers hear of it: nothing to throw from a timer.
      if (open !== window) return;
      open = null;
      close(window);
      const keep = err instanceof StoreBusyError && !stopping;
      const kept: Job[] = [];
      for (const job of window.jobs) {
        if (keep && job.keep && kept.length < MAX_KEPT) kept.push(job);
        else job.reject(err);
      }
      if (kept.length === 0) return;
      // Work queued meanwhile joins the retry; a `now` meanwhile commits it earlier, as ever.
      const tries = window.tries + 1;
      const timer = setTimeout(commitWindow, Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (tries - 1)));
      // A process that is otherwise done (a CLI, a test) need not stay up for it.
      timer.unref();
      open = { jobs: kept, timer, immediate: null, tries };
    }
  }

  return {
    run: <T>(work: () => T) =>
      new Promise<T>((resolve, reject) => {
        open ??= { jobs: [], timer: setTimeout(commitWindow, WINDOW_MS), immediate: null, tries: 0 };
        open.jobs.push({ work, resolve: resolve as (v: unknown) => void, reject, keep: true });
      }),
    soon: <T>(work: () => T) =>
      new Promise<T>((resolve, reject) => {
        open ??= { jobs: [], timer: null, immediate: null, tries: 0 };
        open.immediate ??= setImmediate(commitWindow);
        open.jobs.push({ work, resolve: resolve as (v: unknown) => void, reject, keep: false });
      }),
    now<T>(work: () => T): T {
      const s = stmts();
      if (inside > 0) {
        // Joined: its writes commit with the transaction it runs in, and are undone alone if it throws.
        const out = piece(s, work);
        if (!out.ok) throw out.err;
        return out.value as T;
      }
      // While kept work waits for the lock, the lock is known to be held: look, do not wait.
      const out = commitWith(work, s);
      if (!out.ok) throw out.err;
      return out.value as T;
    },
    flush: commitWindow,
    stop() {
      stopping = true;
      commitWindow();
    },
    onCommit: (listener) => void listeners.push(listener),
    get idle() {
      return open === null;
    },
  };
}
