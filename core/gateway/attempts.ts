import type { Usage } from "../api/chat-response.ts";
import { GatewayError, toGatewayError } from "../api/errors.ts";
import type { TokenUsage } from "../budgets/pricing.ts";
import { decide } from "../routing/failure.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";
import { backoffMs, parseRetryAfter, type RetryPolicy } from "../routing/retry.ts";
import { coverBilledAttempt } from "./billed-attempts.ts";
import { callerSignal } from "./caller-signal.ts";
import { giveBackMinute } from "./minute-share.ts";
import { markTarget, stillInRegion } from "./target.ts";
import type { RequestContext, StreamVerdict } from "./types.ts";

/** What Retry-After counts for a half-open circuit whose probes are all out: until one answers. */
const PROBE_ANSWER_MS = 1_000;

/** One upstream call (or a target skipped because its circuit is open), as the usage record keeps it. */
export interface AttemptRecord {
  provider: string;
  model: string;
  outcome: "ok" | "failed" | "skipped";
  code?: string | undefined;
  status?: number | undefined;
  ms: number;
  /**
   * A failed attempt its provider bills (accounting.ts): it had answered 2xx first, or the caller left
   * while the provider had the call.
   */
  answered?: true;
  /** What the provider said it billed for this answered attempt, when it said: its cost, not the worst case. */
  usage?: Usage;
  /** The part of its worst case such an attempt was billed, when less than all (RequestContext.attemptShare). */
  share?: number;
  /**
   * The input its provider had counted before such an attempt failed (by kind: cache reads and writes):
   * its worst case is priced knowing it (RequestContext.attemptCountedInput, estimate.ts).
   */
  countedInput?: TokenUsage;
  /** What accounting charged for such an attempt: its worst case at that target (times `share`). */
  costUsd?: number;
}

/**
 * Tries the planned targets in order until one answers. `run` must settle before anything reaches the
 * caller (for streams: at the first chunk), which is what makes falling back safe for streams too.
 * A failed attempt is retried on the same target when worth it (5xx, reset, 429 with a short
 * Retry-After), after full-jitter backoff or the provider's Retry-After, as long as enough of the
 * `maxAttempts` budget remains for one call to each untried target; otherwise, or after
 * `retriesPerTarget`, the next target is tried. The caller's own faults end the loop at once. At most
 * `maxAttempts` upstream calls per request. Sets `x-gateway-attempts` and the provider headers.
 * When the caller disconnects (where the host can tell: callerSignal), `run` gets the signal to abort
 * its upstream call with, and the loop stops: no retry, no fallback, a 499 `client_closed`.
 */
export async function withFallback<T>(
  ctx: RequestContext,
  plan: readonly ResolvedTarget[],
  policy: RetryPolicy,
  headers: Record<string, string>,
  run: (target: ResolvedTarget, callerGone: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const { deps } = ctx;
  const gone = callerSignal(ctx.requestId);
  const stopIfGone = () => {
    if (gone?.aborted) throw callerGone();
  };
  const attempts = ctx.outcome.attempts;
  let calls = 0;
  // Of those, the calls that reached the network: what `x-gateway-attempts` reports.
  let made = 0;
  let lastError: GatewayError | undefined;
  // The last failure of a call that was made: what the caller hears when an incompatible target came
  // later (a 500 from the first target, then a parameter the fallback cannot take, is a 502).
  let lastCalled: { err: GatewayError; target: ResolvedTarget } | undefined;
  let incompatible: GatewayError | undefined;
  // A failed attempt the provider billed, whose cost must be reserved before the next call spends more.
  let billed: AttemptRecord | undefined;
  /**
   * `served`: the attempt's call answered the caller (a stream that then failed included): its usage
   * prices it as the request's served call, so it is never also a billed failure on top.
   */
  const note = (
    t: ResolvedTarget,
    outcome: AttemptRecord["outcome"],
    started: number,
    err?: GatewayError,
    served = false,
  ) => {
    const billedFailure = outcome === "failed" && ctx.attemptAnswered && !served;
    const record: AttemptRecord = {
      provider: t.provider.id,
      model: t.model,
      outcome,
      code: err?.code ?? undefined,
      status: err?.status,
      ms: deps.now() - started,
      ...(billedFailure ? { answered: true as const } : {}),
      ...(billedFailure && err?.billedUsage ? { usage: err.billedUsage } : {}),
    };
    if (record.answered && ctx.attemptShare !== undefined && ctx.attemptShare < 1)
      record.share = ctx.attemptShare;
    if (record.answered && ctx.attemptCountedInput !== undefined)
      record.countedInput = ctx.attemptCountedInput;
    attempts.push(record);
    if (record.answered) billed = record;
    return record;
  };

  try {
    for (const [index, target] of plan.entries()) {
      // Before `admit`: a half-open circuit would lend its probe to a call never made.
      stopIfGone();
      // Targets still to try that their breakers would let through (open circuits cost no call).
      const untried = plan.slice(index + 1).filter((t) => deps.breakers.wouldAdmit(t)).length;
      if (index > 0 && !(await stillInRegion(ctx, target))) {
        note(target, "skipped", deps.now());
        continue;
      }
      if (!deps.breakers.admit(target)) {
        note(target, "skipped", deps.now());
        continue;
      }
      for (let retry = 0; calls < policy.maxAttempts; retry++) {
        stopIfGone();
        if (billed) {
          try {
            await coverBilledAttempt(ctx, billed);
          } catch (err) {
            // No call follows: the admission (a half-open circuit's one probe) is given back unused.
            deps.breakers.record(target, undefined);
            throw err;
          }
          billed = undefined;
        }
        calls++;
        // Set before the call (the response copies the headers when it is built), counting this one:
        // an answer means it was made.
        headers["x-gateway-attempts"] = String(made + 1);
        markTarget(ctx, target, headers);
        const started = deps.now();
        ctx.attemptAnswered = false;
        ctx.attemptShare = undefined;
        ctx.attemptCountedInput = undefined;
        // The tier an earlier attempt's provider named is not this one's.
        ctx.outcome.serviceTier = undefined;
        ctx.attemptCalled = false;
        ctx.streamVerdict = undefined;
        try {
          const result = await run(target, gone);
          made++;
          // A stream that started is judged at its end (judgeStream), which may already have come.
          const verdict = ctx.streamVerdict as StreamVerdict | undefined;
          if (!verdict) deps.breakers.record(target, true);
          const record = note(target, verdict?.failure ? "failed" : "ok", started, undefined, true);
          if (verdict?.failure) record.code = verdict.failure;
          if (verdict) {
            verdict.attempt = record;
            verdict.afterNoted?.();
          }
          return result;
        } catch (thrown) {
          // Whatever the call failed with once the caller had gone (its abort cut the call), the caller
          // left: no retry, no fallback, and nothing against the target's breaker.
          const err = gone?.aborted ? callerGone() : toGatewayError(thrown);
          // A call the caller abandoned while the provider had it is billed like one it answered:
          // OpenAI finishes (and bills) a non-streamed completion after the client has gone, and any
          // provider has read the prompt. Priced at its worst case (accounting.ts), never at $0.
          if (gone?.aborted && ctx.attemptCalled) {
            ctx.attemptAnswered = true;
            ctx.attemptShare = undefined;
          }
          if (ctx.attemptCalled) {
            made++;
            lastCalled = { err, target };
          }
          const decision = decide(err);
          deps.breakers.record(target, decision.countsAgainstTarget ? false : undefined);
          note(target, "failed", started, err);
          if (decision.action === "fail") throw err;
          lastError = err;
          if (err.code === "unsupported_parameter") incompatible ??= err;
          // A retry may not take the last calls that the untried targets need: a healthy provider
          // further down the list is a better bet than another try on a failing one.
          const spare = policy.maxAttempts - calls > untried;
          const delay =
            decision.action === "retry" && spare ? retryDelay(err, retry, policy, ctx) : undefined;
          if (delay === undefined || calls >= policy.maxAttempts) break;
          await untilGone(deps.sleep(delay), gone);
          stopIfGone();
          if (!deps.breakers.admit(target)) break;
        }
      }
      if (calls >= policy.maxAttempts) break;
    }
  } finally {
    headers["x-gateway-attempts"] = String(made);
  }
  if (calls === 0) {
    // No provider will see it: the minute's share goes back, as a budget refusal's does.
    void giveBackMinute(ctx, headers);
    // Retry-After is when the first circuit lets a probe through; OpenAI's SDKs wait that long (up to
    // 60 s) before their retry, instead of retrying into the same open circuits at once. A half-open
    // circuit whose probes are all out admits again once one answers: a second, say.
    const waits = plan.map((t) => deps.breakers.admitsInMs(t) ?? PROBE_ANSWER_MS);
    const retryAfter = waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits) / 1000)) : undefined;
    throw new GatewayError(
      503,
      "upstream_error",
      "Every target for this model is failing; their circuits are open.",
      {
        code: "circuit_open",
        headers: retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
      },
    );
  }
  // Only incompatible targets: the caller's parameter is the problem, so say which.
  if (incompatible && attempts.every((a) => a.outcome !== "failed" || a.code === "unsupported_parameter"))
    throw incompatible;
  if (!lastCalled) throw lastError!;
  // The headers and the outcome name the target whose failure the caller hears.
  markTarget(ctx, lastCalled.target, headers);
  throw lastCalled.err;
}

/**
 * The caller closed the connection before the response started: nginx's 499 "client closed request".
 * Nobody reads the envelope; the status and code are for the request log and the usage record, like
 * `client_closed` on a stream the caller left after its first byte.
 */
export const callerGone = (): GatewayError =>
  new GatewayError(499, "invalid_request_error", "The caller closed the connection before the response.", {
    code: "client_closed",
  });

/** Waits for `wait`, or less when the caller disconnects first: a backoff nobody waits for is wasted. */
function untilGone(wait: Promise<void>, gone: AbortSignal | undefined): Promise<void> {
  if (!gone) return wait;
  if (gone.aborted) return Promise.resolve();
  let onAbort!: () => void;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    gone.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([wait, aborted]).finally(() => gone.removeEventListener("abort", onAbort));
}

/** The wait before retrying the same target, or undefined to move on to the next target instead. */
function retryDelay(
  err: GatewayError,
  retry: number,
  policy: RetryPolicy,
  ctx: RequestContext,
): number | undefined {
  if (retry >= policy.retriesPerTarget) return undefined;
  // OpenAI's `retry-after-ms` is the finer of its two (its SDKs read it first).
  const ms = err.headers["retry-after-ms"]?.trim();
  const after =
    ms && /^\d+(?:\.\d+)?$/.test(ms)
      ? Number(ms)
      : parseRetryAfter(err.headers["retry-after"], ctx.deps.now());
  if (after !== undefined) return after <= policy.retryAfterCapMs ? after : undefined;
  // A rate limit without Retry-After: another provider is a better bet than guessing.
  if (err.status === 429) return undefined;
  return backoffMs(retry, policy, ctx.deps.random);
}

/**
 * The end of a stream that had started: the verdict its target's breaker waited for (a break counts
 * against the target, a caller leaving is neutral), and a break marks its attempt `failed` with the
 * error's code, whether the attempt loop has recorded the attempt yet or not.
 */
export function judgeStream(
  ctx: RequestContext,
  target: ResolvedTarget,
  end: { error: GatewayError | undefined; clientClosed: boolean; callerStalled?: boolean },
): void {
  // A caller who left, or who stopped reading until the call's time ran out, says nothing of the provider.
  const neutral = end.clientClosed || end.callerStalled === true;
  ctx.deps.breakers.record(target, neutral ? undefined : !end.error);
  const verdict = ctx.streamVerdict;
  if (!end.error || !verdict) return;
  const code = end.error.code ?? "upstream_error";
  if (!verdict.attempt) {
    verdict.failure = code;
    return;
  }
  verdict.attempt.outcome = "failed";
  verdict.attempt.code = code;
}
