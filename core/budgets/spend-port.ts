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
 * threshold of a budget period exactly once across all instances; `releaseThreshold` gives a claim back
 * when its alert could not be published, so a redelivery claims and publishes it again.
 */
export interface SpendStore {
  record(usage: UsageDetail): Promise<boolean>;
  /** Optional: several events at once, with `record`'s semantics per event, in one write where the store can. */
  recordMany?(usages: UsageDetail[]): Promise<boolean[]>;
  query(q: SpendQuery): Promise<SpendRow[]>;
  /** Org or key spend in a period (day `YYYY-MM-DD` or month `YYYY-MM`), from the rollups. */
  periodSpend(scope: "org" | "key", id: string, periodKey: string): Promise<number>;
  markThreshold(key: string): Promise<boolean>;
  /** Whether a threshold is claimed, without claiming it. */
  hasThreshold(key: string): Promise<boolean>;
  releaseThreshold(key: string): Promise<void>;
}
