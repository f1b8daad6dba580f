import type { GroupCommit } from "../storage/sqlite-group-commit.ts";
import { type GatewayEvent, PublishError } from "./port.ts";
import type { Outbox } from "./sqlite-outbox.ts";

/**
 * The local bus's publish: events written to the outbox in the connection's group commit, resolved once
 * committed. The group commit keeps them, and tries again, for as long as another process holds the
 * write lock; it gives them up only once stopping (sqlite-group-commit.ts), and then PublishError
 * lets the caller log the events whole.
 */
export function outboxPublisher(commits: GroupCommit, outbox: Outbox) {
  // Counted here, so that a stop waits for their outcome (committed, or PublishError for the caller to
  // log) before closing.
  const inFlight = new Set<Promise<void>>();
  const attempts = async (events: GatewayEvent[]): Promise<void> => {
    try {
      return await commits.run(() => outbox.insert(events));
    } catch (err) {
      throw new PublishError(
        `Could not write events to the outbox: ${String(err)}`,
        events.map((e) => e.id),
      );
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
