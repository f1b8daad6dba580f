import type { Log } from "../log.ts";
import type { EventPublisher, Subscription } from "./port.ts";

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

/**
 * With the default backoff (1 s doubling to 5 minutes), the last of this many attempts comes about 24
 * hours after the first (511 s over the first nine, then 286 × 300 s): as long as EventBridge retries a
 * target by default (its RetryPolicy's MaximumEventAgeInSeconds, 86 400).
 */
export const DEFAULT_MAX_ATTEMPTS = 296;

export interface SqliteBus extends EventPublisher {
  start(): void;
  /** Stops delivering; waits for in-flight handlers (whose outcome is still recorded). */
  stop(): Promise<void>;
  /** Resolves true once every subscription is done with every event, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean>;
  /**
   * Resolves true once subscription `name` has handed over (and its handler finished with) every event
   * published before the call, false after timeoutMs; unlike `drain`, later events do not hold it up.
   * A bus not delivering (not started, or stopped) resolves at once.
   */
  caughtUp(name: string, timeoutMs: number): Promise<boolean>;
  /**
   * Deletes up to `limit` of the oldest events published before `before` (ISO time) that every
   * subscription is done with (its saved cursor has passed them); returns how many.
   */
  prune(before: string, limit: number): number;
}
