import type { DatabaseSync } from "node:sqlite";

export interface GroupCommit {
  /** Queues `work` for the open window; resolves with its result once the shared commit is done. */
  run<T>(work: () => T): Promise<T>;
  /** Commits the open window now (a graceful stop). */
  flush(): void;
  /** True when no work waits for a commit. */
  readonly idle: boolean;
}

interface Job {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Batches writes nobody waits on (they run after the response's last byte) into shared transactions: the
 * work queued within `windowMs` runs in one BEGIN IMMEDIATE … COMMIT. In WAL mode the commit is most of a
 * small write's CPU, so at low concurrency this turns one commit per request into one per window. Each
 * piece runs in its own savepoint, so a failing piece is rolled back and rejected alone; every promise
 * settles only after the commit, so a resolved write is a durable one. `onCommit` runs after each commit.
 */
export function createGroupCommit(db: DatabaseSync, windowMs: number, onCommit?: () => void): GroupCommit {
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  const savepoint = db.prepare("SAVEPOINT piece");
  const release = db.prepare("RELEASE piece");
  const undo = db.prepare("ROLLBACK TO piece");
  let open: { jobs: Job[]; timer: NodeJS.Timeout } | null = null;

  function flush(): void {
    const window = open;
    open = null;
    if (!window) return;
    clearTimeout(window.timer);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      begin.run();
      for (const job of window.jobs) {
        savepoint.run();
        try {
          outcomes.push({ ok: true, value: job.work() });
        } catch (err) {
          undo.run();
          outcomes.push({ ok: false, err });
        }
        release.run();
      }
      commit.run();
    } catch (err) {
      // BEGIN or COMMIT failed (disk full, busy past the timeout, database closed): nothing of this
      // window was written. A closed database has no transaction to roll back, and says so by throwing.
      if (db.isOpen && db.isTransaction) rollback.run();
      for (const job of window.jobs) job.reject(err);
      return;
    }
    window.jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.err);
    });
    onCommit?.();
  }

  return {
    run: <T>(work: () => T) =>
      new Promise<T>((resolve, reject) => {
        open ??= { jobs: [], timer: setTimeout(flush, windowMs) };
        open.jobs.push({ work, resolve: resolve as (v: unknown) => void, reject });
      }),
    flush,
    get idle() {
      return open === null;
    },
  };
}
