import type { DatabaseSync } from "node:sqlite";
import type { Log } from "../log.ts";
import { groupCommitFor } from "../storage/sqlite-group-commit.ts";
import { matches, validatePattern } from "./pattern.ts";
import type { EventEnvelope, EventPattern, EventPublisher, GatewayEvent, Subscription } from "./port.ts";
import { PublishError } from "./port.ts";
import { type OutboxRow, openOutbox } from "./sqlite-outbox.ts";

/**
 * The portable event bus: publish() writes to an SQLite outbox, and a delivery loop hands each event to
 * every subscription whose pattern matches, at least once. Each subscription has a cursor (the last
 * outbox seq it is done with) and is served one event at a time in publication order, so a failing
 * event holds back later ones for that subscription only, until it succeeds or is dead-lettered.
 * A crash between handle() and recording the delivery re-delivers on restart: consumers deduplicate
 * by `detail.eventId`. One process delivers: two buses over one file would both deliver.
 */
export interface SqliteBusOptions {
  subscriptions: Subscription[];
  region: string;
  account: string;
  log: Log;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Attempts per (event, subscription) before it is dead-lettered (kept in event_deliveries). */
  maxAttempts?: number;
}

export interface SqliteBus extends EventPublisher {
  start(): void;
  /** Stops delivering; waits for in-flight handlers (whose outcome is still recorded). */
  stop(): Promise<void>;
  /** Resolves true once every subscription is done with every event, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean>;
  /**
   * Deletes up to `limit` of the oldest events published before `before` (ISO time) that every
   * subscription is done with (its saved cursor has passed them); returns how many.
   */
  prune(before: string, limit: number): number;
}

interface Worker {
  sub: Subscription;
  /** The pattern without its `detail` rule, and that rule: AND-ed, so they can be checked apart. */
  head: EventPattern;
  detailRule: EventPattern[string] | undefined;
  running: Promise<void> | null;
  again: boolean;
  timer: NodeJS.Timeout | null;
  /** The last seq this subscription is done with; the table's copy may trail it by one commit window. */
  cursor: number;
}

/** How long new events wait before delivery, so a busy gateway delivers them in batches. */
const DELIVERY_DELAY_MS = 20;

export function createSqliteBus(db: DatabaseSync, opts: SqliteBusOptions): SqliteBus {
  const { region, account, log } = opts;
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const maxRetryDelayMs = opts.maxRetryDelayMs ?? 300_000;
  const maxAttempts = opts.maxAttempts ?? 20;
  const outbox = openOutbox(db);

  const names = new Set<string>();
  for (const sub of opts.subscriptions) {
    validatePattern(sub.pattern);
    if (names.has(sub.name)) throw new Error(`Duplicate subscription name ${sub.name}`);
    names.add(sub.name);
  }

  outbox.initCursors(names);

  /**
   * The row as an envelope when `w`'s pattern matches it, else undefined. The envelope's own fields are
   * checked first, from the row's columns: a subscription that does not take this kind of event (the
   * alerts one, for usage events) costs no parse of the detail.
   */
  const matching = (w: Worker, row: OutboxRow): EventEnvelope | undefined => {
    const env: Omit<EventEnvelope, "detail"> & { detail?: Record<string, unknown> } = {
      version: "0",
      id: row.id,
      "detail-type": row.detail_type,
      source: row.source,
      account,
      time: row.time,
      region,
      resources: [],
    };
    if (!matches(w.head, env)) return undefined;
    env.detail = JSON.parse(row.detail) as Record<string, unknown>;
    if (w.detailRule && !matches({ detail: w.detailRule }, env)) return undefined;
    return env as EventEnvelope;
  };

  // One delivering process per database (above), so the in-memory cursor is the authoritative one.
  const workers: Worker[] = opts.subscriptions.map((sub) => ({
    sub,
    ...splitPattern(sub.pattern),
    running: null,
    again: false,
    timer: null,
    cursor: outbox.cursor(sub.name),
  }));
  const passed = (w: Worker, seq: number) => {
    w.cursor = Math.max(w.cursor, seq);
  };
  let started = false;
  let stopped = false;

  // Publishes share the connection's group commit (sqlite-group-commit.ts): the gateway publishes after a
  // response's last byte, so its window costs no caller any latency, and stop() commits it.
  const commits = groupCommitFor(db);
  commits.onCommit(() => {
    for (const w of workers) if (!w.timer && !w.running) schedule(w, DELIVERY_DELAY_MS);
  });

  const schedule = (w: Worker, delayMs: number) => {
    if (w.timer) clearTimeout(w.timer);
    // unref: a pending retry must not keep the process alive on its own.
    w.timer = setTimeout(() => wake(w), Math.max(0, delayMs)).unref();
  };

  /**
   * A page of first deliveries handed over at once, for subscribers that take batches. Returns false
   * (and changes nothing) when the page holds a retrying event or the batch fails: the per-event path
   * then delivers it with its retries and dead-lettering.
   */
  const deliverBatch = async (w: Worker, rows: OutboxRow[]): Promise<boolean> => {
    const name = w.sub.name;
    // One range query for the page: only an event that failed before has a delivery row.
    if (outbox.anyState(name, rows[0]!.seq, rows.at(-1)!.seq)) return false;
    const envs: EventEnvelope[] = [];
    for (const row of rows) {
      const env = matching(w, row);
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
   * Serves one subscription until it is caught up or must wait for a retry: delivers everything past its
   * cursor, in order. The cursor is written once per batch (and before any wait), not per event: after
   * a crash the batch is delivered again, which at-least-once allows and the consumers' idempotency
   * absorbs, for one commit instead of one per event.
   */
  const run = async (w: Worker): Promise<void> => {
    const name = w.sub.name;
    for (;;) {
      const rows = outbox.after(w.cursor);
      if (rows.length === 0) return;
      if (stopped) return;
      if (w.sub.handleBatch && (await deliverBatch(w, rows))) continue;
      let done = 0;
      const persist = () => {
        if (done === 0) return;
        outbox.skip(name, done);
        passed(w, done);
      };
      for (const row of rows) {
        if (stopped) return persist();
        const env = matching(w, row);
        if (!env) {
          done = row.seq;
          continue;
        }
        const state = outbox.state(name, row.seq);
        const waitMs = (state?.next_attempt_at ?? 0) - Date.now();
        if (waitMs > 0) {
          persist();
          return schedule(w, waitMs);
        }
        const attempts = (state?.attempts ?? 0) + 1;
        try {
          await w.sub.handle(env);
        } catch (err) {
          persist();
          const error = err instanceof Error ? err.message : String(err);
          const fields = { eventId: row.id, subscription: name, attempts, error };
          if (attempts >= maxAttempts) {
            outbox.dead(name, row.seq, attempts, error);
            done = row.seq;
            passed(w, done);
            log.error("event dead-lettered after maxAttempts; kept in event_deliveries", fields);
            continue;
          }
          const delay = Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (attempts - 1));
          outbox.retryAt(name, row.seq, attempts, Date.now() + delay, error);
          log.warn("event delivery failed; will retry", { ...fields, retryInMs: delay });
          return schedule(w, delay);
        }
        outbox.delivered(name, row.seq, attempts);
        done = row.seq;
      }
      persist();
    }
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
        log.error("event delivery loop failed", { subscription: w.sub.name, error: String(err) });
        schedule(w, retryBaseMs);
      })
      .finally(() => {
        w.running = null;
        if (w.again) {
          w.again = false;
          wake(w);
        }
      });
  }

  // Deliveries are woken DELIVERY_DELAY_MS after a commit, so they too run in batches.

  const idle = () => {
    if (!commits.idle) return false;
    const end = outbox.end();
    return workers.every((w) => !w.running && w.cursor >= end);
  };

  return {
    // The outbox ignores an id it holds (INSERT OR IGNORE).
    dedupesIds: true,
    publish(events: GatewayEvent[]): Promise<void> {
      if (events.length === 0) return Promise.resolve();
      return commits
        .run(() => outbox.insert(events))
        .catch((err: unknown) => {
          throw new PublishError(
            `Could not write events to the outbox: ${String(err)}`,
            events.map((e) => e.id),
          );
        });
    },
    start() {
      started = true;
      stopped = false;
      for (const w of workers) wake(w);
    },
    async stop() {
      commits.flush();
      stopped = true;
      for (const w of workers) if (w.timer) clearTimeout(w.timer);
      await Promise.all(workers.map((w) => w.running));
    },
    prune: (before, limit) => outbox.prune([...names], before, limit),
    async drain(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!idle()) {
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return true;
    },
  };
}

function splitPattern(pattern: EventPattern): Pick<Worker, "head" | "detailRule"> {
  const { detail, ...head } = pattern;
  return { head, detailRule: detail };
}
