import type { DatabaseSync } from "node:sqlite";
import { isLockBusy } from "../storage/errors.ts";
import { groupCommitFor } from "../storage/sqlite-group-commit.ts";
import { until } from "../until.ts";
import { outboxPublisher } from "./outbox-publisher.ts";
import { validatePattern } from "./pattern.ts";
import type { EventEnvelope } from "./port.ts";
import { DEFAULT_MAX_ATTEMPTS, type SqliteBus, type SqliteBusOptions } from "./sqlite-bus-types.ts";
import { newWorker, type Worker } from "./sqlite-bus-worker.ts";
import { type OutboxRow, openOutbox } from "./sqlite-outbox.ts";

export type { SqliteBus, SqliteBusOptions } from "./sqlite-bus-types.ts";

/** How long new events wait before delivery, so a busy gateway delivers them in batches. */
const DELIVERY_DELAY_MS = 20;

/**
 * The portable event bus: publish() writes to an SQLite outbox, and a delivery loop hands each event to
 * every subscription whose pattern matches, at least once. Each subscription is served one event at a
 * time in publication order, with a cursor (the last outbox seq it has handed over). An event that
 * fails is recorded for a retry with backoff and the cursor moves on: it holds back only the later
 * events of its order key (Subscription.orderKey), or nothing, so one failing alert never delays
 * another org's. A crash between handle() and recording the delivery re-delivers on restart:
 * consumers deduplicate by `detail.eventId`. One process delivers: two buses over one file would both
 * deliver.
 */
export function createSqliteBus(db: DatabaseSync, opts: SqliteBusOptions): SqliteBus {
  const { region, account, log } = opts;
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const maxRetryDelayMs = opts.maxRetryDelayMs ?? 300_000;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const outbox = openOutbox(db);

  const names = new Set<string>();
  for (const sub of opts.subscriptions) {
    validatePattern(sub.pattern);
    if (names.has(sub.name)) throw new Error(`Duplicate subscription name ${sub.name}`);
    names.add(sub.name);
  }

  outbox.initCursors(names);

  // One delivering process per database (above), so the in-memory cursor is the authoritative one.
  const workers: Worker[] = opts.subscriptions.map((sub) => newWorker(sub, outbox, region, account));
  const passed = (w: Worker, seq: number) => {
    w.cursor = Math.max(w.cursor, seq);
  };
  let started = false;
  let stopped = false;

  // Publishes share the connection's group commit (sqlite-group-commit.ts): the gateway publishes after a
  // response's last byte, so its window costs no caller any latency, and stop() commits it.
  const commits = groupCommitFor(db);
  commits.onCommit(() => {
    for (const w of workers) {
      if (w.running) w.committed = true;
      else schedule(w, DELIVERY_DELAY_MS);
    }
  });

  /** Wakes `w` after `delayMs`, unless a wake is already due sooner. */
  const schedule = (w: Worker, delayMs: number) => {
    const at = Date.now() + Math.max(0, delayMs);
    if (w.timer) {
      if (w.timerAt <= at) return;
      clearTimeout(w.timer);
    }
    w.timerAt = at;
    // unref: a pending retry must not keep the process alive on its own.
    w.timer = setTimeout(() => wake(w), Math.max(0, delayMs)).unref();
  };

  /**
   * A page of first deliveries handed over at once, for subscribers that take batches. Returns false
   * (and changes nothing) when the page holds a waiting event or the batch fails: the per-event path
   * then delivers it with its retries and dead-lettering.
   */
  const deliverBatch = async (w: Worker, rows: OutboxRow[]): Promise<boolean> => {
    const name = w.sub.name;
    if (rows.some((row) => w.pending.has(row.seq))) return false;
    const envs: EventEnvelope[] = [];
    for (const row of rows) {
      const env = w.match(row);
      if (env) envs.push(env);
    }
    try {
      if (envs.length > 0) await w.sub.handleBatch!(envs);
    } catch (err) {
      log.warn("batch delivery failed; delivering one by one", { subscription: name, error: String(err) });
      return false;
    }
    // The cursor rides on the connection's next commit: losing it to a crash only redelivers this batch.
    const last = rows.at(-1)!.seq;
    passed(w, last);
    commits
      .run(() => outbox.skip(name, last))
      .catch((err: unknown) =>
        log.error("could not save a delivery cursor", { subscription: name, error: String(err) }),
      );
    return true;
  };

  /**
   * One attempt at handing `env` to `w`. A failure is recorded for a retry with backoff, or dead-lettered
   * at maxAttempts. Returns the retry's delay, or undefined when the event is finished with.
   */
  const attempt = async (
    w: Worker,
    row: OutboxRow,
    env: EventEnvelope,
    attempts: number,
    hadRow: boolean,
  ): Promise<number | undefined> => {
    const name = w.sub.name;
    try {
      await w.sub.handle(env);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const fields = { eventId: row.id, subscription: name, attempts, error };
      if (attempts >= maxAttempts) {
        outbox.dead(name, row.seq, attempts, error);
        log.error("event dead-lettered after maxAttempts; kept in event_deliveries", fields);
        return undefined;
      }
      const delay = Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (attempts - 1));
      outbox.retryAt(name, row.seq, attempts, Date.now() + delay, error);
      log.warn("event delivery failed; will retry", { ...fields, retryInMs: delay });
      return delay;
    }
    outbox.delivered(name, row.seq, attempts, hadRow);
    return undefined;
  };

  /** Attempts a waiting event whose time has come; behind one that is finished, the next is due. */
  const retry = async (w: Worker, { key, seq }: { key: string; seq: number }): Promise<void> => {
    const row = outbox.event(seq);
    const env = row && w.match(row);
    const state = outbox.state(w.sub.name, seq);
    // Nothing left to deliver (the row went while it waited): the next one behind it is due.
    const delay = env && state ? await attempt(w, row, env, state.attempts + 1, true) : undefined;
    if (delay === undefined) w.pending.done(key);
    else w.pending.retryAt(key, Date.now() + delay);
  };

  /** Hands over a page of events past the cursor, in order; the cursor passes each one handed over. */
  const deliverPage = async (w: Worker, rows: OutboxRow[]): Promise<void> => {
    const name = w.sub.name;
    let done = 0;
    try {
      for (const row of rows) {
        if (stopped) return;
        const env = w.match(row);
        // An event a restart found waiting is its retries' business.
        if (env && !w.pending.has(row.seq)) {
          const key = w.keyOf(env, row.seq);
          if (w.pending.blocks(key)) {
            outbox.wait(name, row.seq);
            w.pending.add(key, row.seq, 0);
          } else {
            const delay = await attempt(w, row, env, 1, false);
            if (delay !== undefined) w.pending.add(key, row.seq, Date.now() + delay);
          }
        }
        done = row.seq;
      }
    } finally {
      if (done > 0) {
        outbox.skip(name, done);
        passed(w, done);
      }
    }
  };

  /**
   * Serves one subscription until it is caught up: a page of new events, then one due retry, and so on,
   * so that retries whose target hangs until its timeout hold a new event back by one attempt at most,
   * and new events never starve a retry. An event that fails waits for its retry and the cursor
   * passes it (its row is the durable record). The cursor is written once per page, not per event:
   * after a crash the page is delivered again, which at-least-once allows and the consumers'
   * idempotency absorbs, for one write instead of one per event.
   */
  const run = async (w: Worker): Promise<void> => {
    for (;;) {
      if (stopped) return;
      // A retry due goes between pages, so that a subscriber never short of new events still retries;
      // only one the cursor has passed: a waiting event it has not (a crash before the cursor was saved,
      // or an older version's layout) is passed by deliverPage first, never retried and then met again
      // as a new one.
      const due = w.pending.due(Date.now()).find((d) => d.seq <= w.cursor);
      const rows = outbox.after(w.cursor);
      if (rows.length > 0) {
        if (due) await retry(w, due);
        // A batch ignores order keys, so it waits while a keyed subscription has events held back.
        const batchable = w.sub.handleBatch && (!w.sub.orderKey || w.pending.size === 0);
        if (!(batchable && (await deliverBatch(w, rows)))) await deliverPage(w, rows);
        continue;
      }
      if (!due) break;
      await retry(w, due);
    }
    const next = w.pending.nextDue();
    if (next !== undefined && !stopped) schedule(w, next - Date.now());
  };

  function wake(w: Worker): void {
    if (!started || stopped) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    if (w.running) {
      w.again = true;
      return;
    }
    w.running = run(w)
      .catch((err: unknown) => {
        // Only the database can fail here; retry the loop later rather than stall the subscription.
        // Another process holding the write lock is a wait, not a fault.
        if (isLockBusy(err))
          log.warn("event delivery waits for the database's write lock", { subscription: w.sub.name });
        else log.error("event delivery loop failed", { subscription: w.sub.name, error: String(err) });
        schedule(w, retryBaseMs);
      })
      .finally(() => {
        w.running = null;
        const committed = w.committed;
        w.committed = false;
        if (w.again) {
          w.again = false;
          wake(w);
        } else if (committed && !stopped) schedule(w, DELIVERY_DELAY_MS);
      });
  }

  const publisher = outboxPublisher(commits, outbox);

  const idle = () => {
    if (!commits.idle || publisher.busy) return false;
    const end = outbox.end();
    return workers.every((w) => !w.running && w.cursor >= end && w.pending.size === 0);
  };

  return {
    dedupesIds: true, // the outbox ignores an id it holds (INSERT OR IGNORE)
    publish: publisher.publish,
    start() {
      started = true;
      stopped = false;
      for (const w of workers) wake(w);
    },
    async stop() {
      // A publish waiting for another process's write lock ends first: committed, or failed for good
      // and logged by its caller, never cut off by the database closing after this. A host that must
      // not wait for as long as the lock is held stops the connection's group commit first (`stop`:
      // kept work is given up), as portable mode does.
      await publisher.settled();
      commits.flush();
      stopped = true;
      for (const w of workers) {
        if (w.timer) clearTimeout(w.timer);
        w.timer = null;
      }
      await Promise.all(workers.map((w) => w.running));
    },
    prune: (before, limit) => outbox.prune([...names], before, limit),
    drain: (timeoutMs) => until(idle, timeoutMs),
    caughtUp(name, timeoutMs) {
      const w = started && !stopped ? workers.find((x) => x.sub.name === name) : undefined;
      // Published before now: in the outbox once the open window commits (unless the lock keeps it out).
      commits.flush();
      const end = outbox.end();
      if (w && w.cursor < end) wake(w);
      return until(() => !w || w.cursor >= end, timeoutMs);
    },
  };
}
