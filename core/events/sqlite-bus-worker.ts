import { type PendingDeliveries, pendingDeliveries } from "./pending-deliveries.ts";
import type { Subscription } from "./port.ts";
import type { Outbox } from "./sqlite-outbox.ts";
import { type SubscriptionMatch, subscriptionMatch } from "./subscription-match.ts";

/** One subscription's delivery state in the local bus (sqlite-bus.ts), which its loop alone changes. */
export interface Worker extends SubscriptionMatch {
  sub: Subscription;
  running: Promise<void> | null;
  again: boolean;
  /**
   * Events were committed while the loop ran: it may have made its last look at the outbox before
   * them, so it is woken again (after the batching delay) once it ends.
   */
  committed: boolean;
  timer: NodeJS.Timeout | null;
  /** When the timer fires (ms since epoch). */
  timerAt: number;
  /** The last seq this subscription has handed over; the table's copy may trail it by one commit window. */
  cursor: number;
  /** Events past their first attempt, waiting for a retry (or behind one). */
  pending: PendingDeliveries;
}

/**
 * A subscription's worker as the bus starts it: at its saved cursor, with the retries a stopped
 * process left at their persisted times.
 */
export function newWorker(sub: Subscription, outbox: Outbox, region: string, account: string): Worker {
  const w: Worker = {
    sub,
    ...subscriptionMatch(sub, region, account),
    running: null,
    again: false,
    committed: false,
    timer: null,
    timerAt: 0,
    cursor: outbox.cursor(sub.name),
    pending: pendingDeliveries(),
  };
  for (const row of outbox.pending(sub.name)) {
    const env = w.match(row);
    if (env) w.pending.add(w.keyOf(env, row.seq), row.seq, row.next_attempt_at ?? 0);
  }
  return w;
}
