import type { UsageDetail } from "../events/usage.ts";

/** One rollup row: spend and tokens of an org, key and model on a UTC day. */
export interface SpendRow {
  day: string;
  org: string;
  keyId: string;
  model: string;
  provider: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface SpendQuery {
  org?: string | undefined;
  keyId?: string | undefined;
  model?: string | undefined;
  /** Inclusive UTC days `YYYY-MM-DD`. */
  from: string;
  to: string;
}

/**
 * The cost aggregator's store. `record` adds one usage event to its rollups exactly once per request id
 * (a redelivered event changes nothing) and returns whether it was new. `markThreshold` claims a
 * threshold of a budget period exactly once across all instances, for an owner (the usage event's
 * request id): a claim its owner makes again, before it marked the alert published and once the claim's
 * lease (CLAIM_LEASE_MS) has run out, is still its own, so a claim whose answer was lost, or whose
 * release failed, is taken again by the event's redelivery; a copy of the same event processed at the
 * same time is refused. `releaseThreshold` gives an owner's claim back when its alert could not be published.
 */
/**
 * How long a threshold claim is its taker's alone, also against its own owner. On AWS two copies of one
 * usage event can be processed at once by two aggregator invocations (an SQS message delivered twice,
 * the router's PutEvents retried after a lost answer, the sweep's `interrupted` event): both are the
 * same owner, and both would publish. A real redelivery comes later than this: SQS hides a received
 * message for 6 minutes (stacks/events.ts: six times the aggregator's 60 s timeout), and an invocation
 * that still runs has had at most its 60 s.
 */
export const CLAIM_LEASE_MS = 120_000;

export interface SpendStoreOptions {
  /** Tests shorten it; see CLAIM_LEASE_MS. */
  claimLeaseMs?: number | undefined;
}

export interface SpendStore {
  record(usage: UsageDetail): Promise<boolean>;
  /**
   * Optional: the `settlements` of the event that was counted for a request, for a store where two
   * different events can compete for one request id (on AWS, the reservation sweep's `interrupted` one
   * and the router's own, late): whichever was counted decides what the reservations settle to, so
   * counter and report agree. Undefined when that event named none, or the store does not keep them
   * (the local bus keeps one event per id, so the one counted is the one being delivered).
   */
  settlementsOf?(requestId: string): Promise<UsageDetail["settlements"]>;
  /** Optional: several events at once, with `record`'s semantics per event, in one write where the store can. */
  recordMany?(usages: UsageDetail[]): Promise<boolean[]>;
  query(q: SpendQuery): Promise<SpendRow[]>;
  /** Org or key spend in a period (day `YYYY-MM-DD` or month `YYYY-MM`), from the rollups. */
  periodSpend(scope: "org" | "key", id: string, periodKey: string): Promise<number>;
  markThreshold(key: string, owner: string): Promise<boolean>;
  /** Records that the owner's alert was published: its owner's next claim is then refused. */
  thresholdPublished(key: string, owner: string): Promise<void>;
  /** Whether a threshold is claimed, without claiming it. */
  hasThreshold(key: string): Promise<boolean>;
  /** Gives the owner's unpublished claim back (another owner's, or a published one, stays). */
  releaseThreshold(key: string, owner: string): Promise<void>;
}
