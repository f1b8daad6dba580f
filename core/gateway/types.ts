import type { Readable } from "node:stream";
import type { AuditQueue } from "../audit/port.ts";
import type { Sampler } from "../audit/sampler.ts";
import type { BudgetStore, CounterRef } from "../budgets/port.ts";
import type { TokenUsage } from "../budgets/pricing.ts";
import type { ProviderConfig, Timeouts } from "../config/types.ts";
import type { EventPublisher } from "../events/port.ts";
import type { ApiKeyRecord, KeyStore } from "../keys/port.ts";
import type { Log } from "../log.ts";
import type { Transport } from "../providers/transport.ts";
import type { ProviderKind } from "../providers/types.ts";
import type { RateLimitStore } from "../ratelimit/port.ts";
import type { RegistryCache } from "../registry/cache.ts";
import type { RegistrySnapshot } from "../registry/port.ts";
import type { BreakerBoard } from "../routing/breaker-board.ts";
import type { AttemptRecord } from "./attempts.ts";
import type { RequestCapture } from "./audit.ts";
import type { SpendState } from "./spend-guard.ts";

/** What one finished request reports (logged now; priced and published by the spend issue). */
export interface RequestOutcome {
  requestId: string;
  keyId: string | undefined;
  org: string | undefined;
  endpoint: string;
  model: string | undefined;
  provider: string | undefined;
  providerModel: string | undefined;
  status: number;
  stream: boolean;
  latencyMs: number;
  ttftMs: number | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  cachedTokens: number | undefined;
  /** Part of promptTokens written to the provider's cache; cacheWrite1hTokens is its 1-hour part. */
  cacheWriteTokens: number | undefined;
  cacheWrite1hTokens: number | undefined;
  reasoningTokens: number | undefined;
  /** Part of promptTokens that was audio (OpenAI's `audio_tokens`, Gemini's AUDIO modality). */
  audioTokens: number | undefined;
  /**
   * The counts above are not the provider's final figures: a stream that broke (or whose caller left)
   * before its final usage has what the provider had reported so far; an embeddings call the provider
   * counted nothing for has the request's upper bound.
   */
  usagePartial: boolean;
  /** The processing tier the provider says served the request (OpenAI's `service_tier`), when it says. */
  serviceTier?: string | undefined;
  errorCode: string | undefined;
  /**
   * The budget that refused the request (429 `budget_exceeded`): used up for its period, unless
   * `pastLimit` says the request's own bound passed its whole limit.
   */
  budgetRefused?: (CounterRef & { limitUsd: number; pastLimit?: true }) | undefined;
  /** Every upstream call made (and target skipped) for this request, in order. */
  attempts: AttemptRecord[];
  /** Priced from provider usage (or the reservation when a stream ended without usage). */
  costUsd: number | undefined;
  priceVersion: string | undefined;
}

/** Everything the request path needs, wired by a composition root in `functions/`. */
export interface GatewayDeps {
  registry: RegistryCache;
  keys: KeyStore;
  transports: Record<ProviderKind, Transport>;
  /** Provider API key, resolved by the composition root (env var or secret store). */
  credential(provider: ProviderConfig): string | undefined;
  baseUrl(provider: ProviderConfig): string;
  maxBodyBytes: number;
  timeouts?: Timeouts | undefined;
  /** Silence after which an SSE comment keeps intermediaries from idling the stream out. */
  keepAliveMs: number;
  log: Log;
  /** Per-process circuit breakers, one per target. */
  breakers: BreakerBoard;
  /** Where this instance runs (an AWS region, or `local`): names its budget counter items. */
  region: string;
  budgets?: BudgetStore | undefined;
  rateLimits?: RateLimitStore | undefined;
  events?: EventPublisher | undefined;
  /** Audit transport (SQS FIFO in AWS, the SQLite queue in portable mode). */
  audit?: AuditQueue | undefined;
  /** Caps authentication-failure records per minute and process. */
  authFailureSampler?: Sampler | undefined;
  now(): number;
  newId(): string;
  sleep(ms: number): Promise<void>;
  random(): number;
  onOutcome?(outcome: RequestOutcome): void;
}

/** A response for the streaming host: headers go in the prelude, the body is a string or a stream. */
export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
}

/** Per-request state threaded through the handlers. */
export interface RequestContext {
  deps: GatewayDeps;
  requestId: string;
  startedAt: number;
  headers: Record<string, string>;
  key?: ApiKeyRecord;
  snapshot?: RegistrySnapshot;
  outcome: RequestOutcome;
  /** Set by a streaming response: its outcome is reported when the stream ends, not with the headers. */
  deferOutcome: boolean;
  /** Work (settlement, usage event) the host must await before the invocation ends. */
  pending: Array<Promise<void>>;
  spend?: SpendState | undefined;
  /** Set for orgs marked `sensitive`: the request and response that go to the org's audit chain. */
  capture?: RequestCapture | undefined;
  /** Why a budget or residency refusal happened, for the audit record. */
  refusal?: string | undefined;
  /**
   * The current attempt's provider answered 2xx: from then on it has done (and billed) the work, even
   * if the attempt fails afterwards (a body cut off, a stream broken before its first chunk).
   */
  attemptAnswered?: boolean;
  /**
   * The part (0 to 1) of the current attempt's worst case its provider billed, when the attempt was
   * sent as several calls and failed after some were answered (Gemini embeddings in calls of 100): only
   * those are billed. Unset: the whole worst case.
   */
  attemptShare?: number;
  /** Input tokens the provider had counted of the current attempt before it failed (onEarlyCount). */
  attemptCountedInput?: TokenUsage;
  /**
   * The current attempt reached the network (callTarget). An attempt refused before it (a parameter the
   * target cannot take) is no upstream call, and `x-gateway-attempts` does not count it.
   */
  attemptCalled?: boolean;
  /** The caller asked in OpenAI's deprecated function-calling form, and gets its answer in it. */
  legacyFunctions?: boolean;
  /**
   * Set by a stream's route for its attempt: a stream that starts is judged when it ends, not when it
   * starts (attempts.ts judgeStream). A break after its first byte counts against its target's breaker,
   * and its attempt says `failed`.
   */
  streamVerdict?: StreamVerdict | undefined;
}

export interface StreamVerdict {
  /** The attempt loop's record of the served attempt, once it has made it. */
  attempt?: AttemptRecord;
  /** The code the stream broke with, when it broke before the attempt loop made its record. */
  failure?: string;
  /**
   * A stream that ended before the attempt loop made its record (a short answer, whole in one read)
   * completes its request once it has: the usage event lists every attempt, the serving one included.
   */
  afterNoted?: () => void;
}
