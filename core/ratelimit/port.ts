/** One rate-limit bucket: a key's or org's requests or tokens in one fixed minute window. */
export interface RateBucket {
  /** e.g. `key:k1:requests` or `org:acme:tokens`. */
  name: string;
  limit: number;
  amount: number;
}

export interface RateDecision {
  ok: boolean;
  /** Remaining per bucket name after this call (unchanged when refused). */
  remaining: Record<string, number>;
  /** The bucket that refused, when not ok. */
  refusedBy?: string | undefined;
  /** When the current window ends (epoch ms). */
  resetAt: number;
}

/**
 * Fixed one-minute windows shared by every instance through the store. `consume` takes all buckets or
 * none, atomically. `adjust` corrects a token bucket after the fact (estimate → provider-reported usage);
 * it may go over the limit, which only shortens what remains of the window.
 */
export interface RateLimitStore {
  consume(buckets: RateBucket[], now: number): Promise<RateDecision>;
  adjust(bucketName: string, delta: number, windowStart: number): Promise<void>;
}

export const WINDOW_MS = 60_000;
export const windowStart = (now: number): number => now - (now % WINDOW_MS);
