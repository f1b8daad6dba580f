import type { GroupCommit } from "../storage/sqlite-group-commit.ts";
import { type GatewayEvent, PublishError } from "./port.ts";
import type { Outbox } from "./sqlite-outbox.ts";

/** Commits a publish tries before giving up (each waits out SQLite's busy timeout). */
const PUBLISH_ATTEMPTS = 3;

/**
 * The local bus's publish: events written to the outbox in the connection's group commit, resolved once
 * committed. A commit fails when another process holds the write lock past the busy timeout: it is
 * tried again, as the EventBridge publisher retries, before PublishError lets the caller log the events.
 */
export function outboxPublisher(commits: GroupCommit, outbox: Outbox, retryBaseMs: number) {
  // Publishes between attempts hold no commit, so the group commit looks idle: counted here, so that a
  // stop waits for their outcome (committed, or PublishError for the caller to log) before closing.
  const inFlight = new Set<Promise<void>>();
  const attempts = async (events: GatewayEvent[]): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await commits.run(() => outbox.insert(events));
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS)
          throw new PublishError(
            `Could not write events to the outbox: ${String(err)}`,
            events.map((e) => e.id),
          );
        await new Promise((resolve) => setTimeout(resolve, retryBaseMs * attempt));
      }
    }
  };
  return {
    publish(events: GatewayEvent[]): Promise<void> {
      if (events.length === 0) return Promise.resolve();
      const done = attempts(events);
      inFlight.add(done);
      return done.finally(() => inFlight.delete(done));
    },
    /** True while a publish has neither committed nor failed for good. */
    get busy() {
      return inFlight.size > 0;
    },
    /** Settles once every publish in flight has. */
    settled: () => Promise.allSettled([...inFlight]).then(() => undefined),
  };
}
