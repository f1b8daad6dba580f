import { z } from "zod";

/**
 * `llm.usage`: one per request, published when its outcome is known (for streams: after the last byte).
 * Tokens are the provider's own counts; `costUsd` is priced with the table named by `priceVersion`
 * (`config`: a provider's `prices` override; `unpriced`: no price, cost 0).
 */
export const usageDetail = z.object({
  requestId: z.string().min(1),
  org: z.string().min(1),
  keyId: z.string().min(1),
  /** What the caller asked for: an alias or `provider/model`. */
  alias: z.string().min(1),
  endpoint: z.enum(["chat", "embeddings"]),
  provider: z.string().nullable(),
  providerModel: z.string().nullable(),
  region: z.string().min(1),
  tokens: z.object({
    input: z.number().int().min(0),
    output: z.number().int().min(0),
    cached: z.number().int().min(0),
    reasoning: z.number().int().min(0),
    /** Part of `input` written to the provider's cache (billed above the input price); absent before 2026-11-26. */
    cacheWrite: z.number().int().min(0).optional(),
    /** Part of `cacheWrite` cached for an hour (billed higher still); absent when none. */
    cacheWrite1h: z.number().int().min(0).optional(),
    /** Part of `input` that was audio (billed at the audio price); absent when none. */
    audio: z.number().int().min(0).optional(),
  }),
  /**
   * False when the provider's final usage never came (a stream cut short): `tokens` hold what it had
   * reported so far, and the cost is the reservation (or, without a budget, those tokens priced).
   */
  usageReported: z.boolean(),
  /** The tier the provider said served the request (OpenAI's `service_tier`); absent when it said none. */
  serviceTier: z.string().min(1).max(64).optional(),
  costUsd: z.number().min(0),
  priceVersion: z.string().min(1),
  latencyMs: z.number().min(0),
  ttftMs: z.number().min(0).nullable(),
  status: z.number().int(),
  /**
   * The budget that refused the request (429 `budget_exceeded`): used up, so its 100 % alert fires,
   * unless `pastLimit` says the request alone was too large for it.
   */
  budgetRefused: z
    .object({
      scope: z.enum(["org", "key"]),
      id: z.string().min(1),
      period: z.enum(["day", "month"]),
      periodKey: z.string().min(1),
      /** The limit it refused at: a budget changed since is judged by its own limit, not this one. */
      limitUsd: z.number().positive().optional(),
      /**
       * The request's own bound passed the whole limit: the budget is not used up by it (a refusal
       * whatever was spent), and it fires no alert.
       */
      pastLimit: z.literal(true).optional(),
    })
    .optional(),
  stream: z.boolean(),
  /**
   * The gateway stopped for good (a hard kill, a router invocation that died) while the request was in
   * flight: its outcome and usage are unknown, so it costs what it had reserved, charged at the next
   * start (portable mode) or by the reservation sweep (AWS).
   */
  interrupted: z.literal(true).optional(),
  attempts: z.array(
    z.object({
      provider: z.string(),
      model: z.string(),
      outcome: z.enum(["ok", "failed", "skipped"]),
      code: z.string().optional(),
      ms: z.number().min(0),
      /**
       * A failed attempt its provider bills: it had answered 2xx first, or the caller left while the
       * provider had the call. `costUsd` is the worst case charged for it, and is part of the event's
       * `costUsd`. Absent before 2026-11-26.
       */
      answered: z.boolean().optional(),
      costUsd: z.number().min(0).optional(),
    }),
  ),
  time: z.iso.datetime(),
  /**
   * The budget reservations the request settles, and to what (its own under its request id, top-ups
   * for billed attempts under theirs). The cost aggregator settles them again: settling is idempotent,
   * and a router that could not reach its store (a DynamoDB outage) would leave them holding their
   * worst case for good. Absent for requests no budget covered, and before 2026-11-26.
   */
  // As many as the request's billed attempts, which `attempts` does not bound either (an event is
  // bounded by its bus: EventBridge takes 256 KB).
  settlements: z.array(z.object({ id: z.string().min(1).max(256), usd: z.number().min(0) })).optional(),
  /**
   * The limits the request was admitted under, one per budget it reserved against. The cost aggregator
   * judges thresholds against them as well as against the limits in force when it counts the event, so
   * spend that reached a line alerts at that line though the limit was raised a moment later. Absent
   * for requests no budget covered, and before 2026-11-27.
   */
  budgetLimits: z
    .array(
      z.object({
        scope: z.enum(["org", "key"]),
        id: z.string().min(1),
        period: z.enum(["day", "month"]),
        limitUsd: z.number().positive(),
      }),
    )
    .max(16)
    .optional(),
});

export type UsageDetail = z.infer<typeof usageDetail>;

export const USAGE_DETAIL_TYPE = "llm.usage";
export const THRESHOLD_DETAIL_TYPE = "budget.threshold";

/** `budget.threshold`: a budget crossed 50, 80 or 100 % of its limit in a period; once per threshold per period. */
export const thresholdDetail = z.object({
  scope: z.enum(["org", "key"]),
  id: z.string().min(1),
  org: z.string().min(1),
  period: z.enum(["day", "month"]),
  periodKey: z.string().min(1),
  threshold: z.union([z.literal(50), z.literal(80), z.literal(100)]),
  limitUsd: z.number().positive(),
  spentUsd: z.number().min(0),
  time: z.iso.datetime(),
});

export type ThresholdDetail = z.infer<typeof thresholdDetail>;
