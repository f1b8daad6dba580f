/** A spend counter: one budget's period. */
export interface CounterRef {
  scope: "org" | "key";
  id: string;
  period: "day" | "month";
  /** UTC period: `2026-11-26` for a day, `2026-11` for a month. */
  periodKey: string;
  /**
   * When the budget was added, if within this period (counters.ts): a budget removed and added again
   * gets a counter of its own, seeded with everything the period spent (CounterSeed).
   */
  epoch?: string | undefined;
}

export interface ReserveItem {
  counter: CounterRef;
  /** Worst-case cost of the request. */
  amountUsd: number;
  limitUsd: number;
}

export type ReserveResult =
  | { ok: true }
  | { ok: false; counter: CounterRef; spentUsd: number; limitUsd: number };

/**
 * Budget counters with a hard stop. `reserve` adds every item's amount atomically, all or none, and only
 * if each counter stays within its limit (summed over every region's counter item); `settle` moves a
 * reservation to the actual cost. Both are idempotent per request id: a retried call counts once.
 * Each region writes only its own counter items (DynamoDB global tables lose concurrent ADDs to one
 * item from two regions), so enforcement sums them; see README for the overshoot bound.
 */
/**
 * What a counter's period had spent before its first reservation, in USD: the cost aggregator's period
 * total. A budget added (or first used) mid-period starts from it, not from $0: spend made while no
 * budget counted it still counts against the new one.
 */
export type CounterSeed = (counter: CounterRef) => Promise<number>;

/**
 * Whose request a reservation is for: what its usage event needs, should the process stop for good
 * before settling it (portable mode charges such reservations at its next start, AWS in a scheduled
 * sweep; interrupted.ts).
 * `requestId` is the request's own: a top-up for a billed attempt is reserved under an id of its own.
 */
export interface ReservedFor {
  requestId: string;
  org: string;
  keyId: string;
  alias: string;
  endpoint: "chat" | "embeddings";
  stream: boolean;
  /** When the request started, in ms since the epoch: its usage event's time, which picks its period. */
  startedAt: number;
  /** The price table that priced the reservation's worst case. */
  priceVersion: string;
}

/** A reservation still holding its worst case on its counters. */
export interface UnsettledReservation {
  /** Its own id: the request's, or a top-up's (`<request id>.billed-1`). */
  id: string;
  amountUsd: number;
  reservedFor: ReservedFor;
  /**
   * Settled already, to `amountUsd`: another reservation of a request that has open ones, which the
   * request's usage event costs too and settles nothing (interrupted.ts).
   */
  settled?: boolean;
}

export interface BudgetStore {
  /**
   * `reservedFor` is kept with the reservation, so that one its process never settles can be charged:
   * at the next start in portable mode, by the scheduled sweep on AWS (interrupted.ts).
   */
  reserve(requestId: string, items: ReserveItem[], reservedFor?: ReservedFor): Promise<ReserveResult>;
  /** `actualUsd` ≤ reserved in the gateway's use; a settle for an unknown reservation is a no-op. */
  settle(requestId: string, actualUsd: number): Promise<void>;
  /** Spend so far in a counter, all regions summed. */
  spent(counter: CounterRef): Promise<number>;
}
