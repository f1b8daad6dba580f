import { describe, expect, it } from "vitest";
import {
  GatewayError,
  unsupportedParameter,
  upstreamError,
  upstreamTimeout,
} from "../../../core/api/errors.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import type { BreakerConfig, ProviderConfig } from "../../../core/config/types.ts";
import { judgeStream, withFallback } from "../../../core/gateway/attempts.ts";
import { watchCaller } from "../../../core/gateway/caller-signal.ts";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { GatewayDeps, RequestContext } from "../../../core/gateway/types.ts";
import { type BreakerBoard, createBreakerBoard } from "../../../core/routing/breaker-board.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "../../../core/routing/retry.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

function target(id: string, breaker?: BreakerConfig): ResolvedTarget {
  const provider: ProviderConfig = { id, kind: "mock", region: "global", models: [], breaker };
  return { provider, model: `${id}-model`, region: "global", weight: undefined, timeouts: DEFAULT_TIMEOUTS };
}

const serverError = () => upstreamError("Provider returned HTTP 503.", "upstream_http_error");
const rateLimited = (retryAfter?: string) =>
  new GatewayError(429, "rate_limit_error", "slow down", {
    code: "upstream_rate_limited",
    headers: retryAfter === undefined ? {} : { "retry-after": retryAfter },
  });
const callerFault = () =>
  new GatewayError(400, "invalid_request_error", "messages: required", { code: "upstream_invalid_request" });

/** What a scripted target does on each call: throw the error, or answer with the string. */
type Outcome = GatewayError | Error | string;
/** A step may also be decided during the call, e.g. after the caller has been made to leave. */
type Step = Outcome | (() => Outcome);

/**
 * A request context on a hand-driven clock. `sleep` records the delay asked for and advances the clock
 * without waiting; each call to `run` takes `callMs` of clock time. The breaker board is shared across
 * requests made through the same harness.
 */
function harness(opts: { random?: number; callMs?: number; breakers?: BreakerBoard } = {}) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const deps = {
    breakers: opts.breakers ?? createBreakerBoard(() => clock),
    now: () => clock,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => opts.random ?? 0.5,
  } as unknown as GatewayDeps;

  function request(
    plan: readonly ResolvedTarget[],
    script: Record<string, Step[]>,
    policy: RetryPolicy = DEFAULT_RETRY,
  ) {
    const ctx: RequestContext = {
      deps,
      requestId: "req-1",
      startedAt: clock,
      headers: {},
      outcome: newOutcome("req-1", "/v1/chat/completions"),
      deferOutcome: false,
      pending: [],
    };
    const headers: Record<string, string> = {};
    const calls: string[] = [];
    const signals: Array<AbortSignal | undefined> = [];
    const remaining = new Map(Object.entries(script).map(([id, steps]) => [id, [...steps]]));
    const result = withFallback(ctx, plan, policy, headers, async (t, callerGone) => {
      calls.push(t.provider.id);
      signals.push(callerGone);
      clock += opts.callMs ?? 0;
      const planned = remaining.get(t.provider.id)?.shift();
      if (planned === undefined) throw new Error(`target ${t.provider.id} called more often than scripted`);
      const step = typeof planned === "function" ? planned() : planned;
      // A request the target cannot take is refused while it is mapped, before any network call.
      if (!(step instanceof GatewayError && step.code === "unsupported_parameter")) ctx.attemptCalled = true;
      if (step instanceof Error) throw step;
      return step;
    });
    return { result, calls, headers, ctx, signals };
  }

  return {
    deps,
    sleeps,
    request,
    advance(ms: number) {
      clock += ms;
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected the request to fail");
}

const summary = (ctx: RequestContext) =>
  ctx.outcome.attempts.map((a) => `${a.provider}:${a.outcome}${a.code ? `:${a.code}` : ""}`);

const [a, b, c] = [target("a"), target("b"), target("c")];

describe("withFallback", () => {
  it("returns the first target's answer after a single call", async () => {
    const h = harness();
    const r = h.request([a, b], { a: ["from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(r.calls).toEqual(["a"]);
    expect(h.sleeps).toEqual([]);
    expect(summary(r.ctx)).toEqual(["a:ok"]);
  });

  it("forgets the service tier an earlier attempt's provider named before the next call", async () => {
    const h = harness();
    let seen: string | undefined = "never asked";
    const r = h.request([a, b], {
      a: [
        serverError(),
        () => {
          r.ctx.outcome.serviceTier = "priority";
          return serverError();
        },
      ],
      b: [
        () => {
          seen = r.ctx.outcome.serviceTier;
          return "from b";
        },
      ],
    });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "a", "b"]);
    expect(seen).toBeUndefined();
  });

  it("sets the attempt count and the serving provider and model as headers", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [upstreamTimeout("a", "connect")], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.headers).toEqual({
      "x-gateway-attempts": "2",
      "x-gateway-provider": "b",
      "x-gateway-model": "b-model",
    });
    expect(r.ctx.outcome.provider).toBe("b");
    expect(r.ctx.outcome.providerModel).toBe("b-model");
  });

  it("counts in x-gateway-attempts only the calls made, not a target that refused the request first", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [unsupportedParameter("a", "seed")], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.headers["x-gateway-attempts"]).toBe("1");
    const only = h.request([a], { a: [unsupportedParameter("a", "seed")] });
    await expect(only.result).rejects.toMatchObject({ code: "unsupported_parameter" });
    expect(only.headers["x-gateway-attempts"]).toBe("0");
  });

  it("answers with the last call's failure, not a later target's refusal of a parameter", async () => {
    const h = harness();
    const r = h.request(
      [a, b],
      { a: [serverError()], b: [unsupportedParameter("b", "seed")] },
      { ...DEFAULT_RETRY, retriesPerTarget: 0 },
    );
    expect(await rejection(r.result)).toMatchObject({ status: 502, code: "upstream_http_error" });
    expect(r.headers).toMatchObject({ "x-gateway-attempts": "1", "x-gateway-provider": "a" });
  });

  it("has set the headers for the current attempt before run is called", async () => {
    const h = harness();
    const seen: Array<Record<string, string>> = [];
    const headers: Record<string, string> = {};
    const ctx: RequestContext = {
      deps: h.deps,
      requestId: "r",
      startedAt: 0,
      headers: {},
      outcome: newOutcome("r", "/v1/chat/completions"),
      deferOutcome: false,
      pending: [],
    };
    let first = true;
    await withFallback(ctx, [a, b], DEFAULT_RETRY, headers, async () => {
      seen.push({ ...headers });
      ctx.attemptCalled = true;
      if (first) {
        first = false;
        throw upstreamTimeout("a", "connect");
      }
      return "ok";
    });
    expect(seen).toEqual([
      { "x-gateway-attempts": "1", "x-gateway-provider": "a", "x-gateway-model": "a-model" },
      { "x-gateway-attempts": "2", "x-gateway-provider": "b", "x-gateway-model": "b-model" },
    ]);
  });

  it("retries the same target once after a 5xx with jittered backoff, then moves on", async () => {
    const h = harness({ random: 0.5 });
    const r = h.request([a, b], { a: [serverError(), serverError()], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "a", "b"]);
    // Full jitter on the first retry: floor(0.5 × min(2 000, 100 × 2^0)).
    expect(h.sleeps).toEqual([50]);
    expect(summary(r.ctx)).toEqual(["a:failed:upstream_http_error", "a:failed:upstream_http_error", "b:ok"]);
  });

  it("returns the retried call's answer when the same target recovers", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [upstreamError("reset", "upstream_reset"), "from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(r.calls).toEqual(["a", "a"]);
    expect(r.headers["x-gateway-attempts"]).toBe("2");
  });

  it.each([
    { what: "a 429", err: () => rateLimited("2") },
    {
      what: "a 503",
      err: () => upstreamError("HTTP 503", "upstream_http_error", { "retry-after": "2" }),
    },
  ])("sleeps exactly the Retry-After of $what when it is within the cap", async ({ err }) => {
    const h = harness();
    const r = h.request([a, b], { a: [err(), "from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(r.calls).toEqual(["a", "a"]);
    expect(h.sleeps).toEqual([2_000]);
  });

  it("sleeps OpenAI's retry-after-ms, the finer of its two", async () => {
    const h = harness();
    const err = new GatewayError(429, "rate_limit_error", "slow down", {
      code: "upstream_rate_limited",
      headers: { "retry-after": "1", "retry-after-ms": "300" },
    });
    const r = h.request([a], { a: [err, "from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(h.sleeps).toEqual([300]);
  });

  it("honours a Retry-After given as an HTTP-date", async () => {
    const h = harness();
    const when = new Date(h.deps.now() + 3_000).toUTCString();
    const r = h.request([a], { a: [rateLimited(when), "from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(h.sleeps).toEqual([3_000]);
  });

  it("sleeps the Retry-After of exactly the cap", async () => {
    const h = harness();
    const r = h.request(
      [a, b],
      { a: [rateLimited("1"), "from a"] },
      { ...DEFAULT_RETRY, retryAfterCapMs: 1_000 },
    );
    await expect(r.result).resolves.toBe("from a");
    expect(h.sleeps).toEqual([1_000]);
  });

  it("moves to the next target without sleeping when Retry-After is past the cap", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [rateLimited("6")], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "b"]);
    expect(h.sleeps).toEqual([]);
  });

  it("moves to the next target without sleeping on a 429 without Retry-After", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [rateLimited()], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "b"]);
    expect(h.sleeps).toEqual([]);
  });

  it.each([
    { what: "a timeout", err: () => upstreamTimeout("a", "first byte") },
    { what: "an unreachable provider", err: () => upstreamError("down", "upstream_unreachable") },
    { what: "a refused credential", err: () => upstreamError("creds", "upstream_auth_failed") },
  ])("moves to the next target at once after $what", async ({ err }) => {
    const h = harness();
    const r = h.request([a, b], { a: [err()], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "b"]);
    expect(h.sleeps).toEqual([]);
  });

  it("does not retry the same target when retriesPerTarget is 0", async () => {
    const h = harness();
    const r = h.request(
      [a, b],
      { a: [serverError()], b: ["from b"] },
      { ...DEFAULT_RETRY, retriesPerTarget: 0 },
    );
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "b"]);
    expect(h.sleeps).toEqual([]);
  });

  it("stops at once on the caller's fault and throws that error", async () => {
    const h = harness();
    const fault = callerFault();
    const r = h.request([a, b], { a: [fault], b: ["never"] });
    expect(await rejection(r.result)).toBe(fault);
    expect(r.calls).toEqual(["a"]);
    expect(r.headers["x-gateway-attempts"]).toBe("1");
  });

  it("stops at once on an internal error and does not try another target", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [new TypeError("bug")], b: ["never"] });
    const err = await rejection(r.result);
    expect(err.status).toBe(500);
    expect(err.code).toBe("internal_error");
    expect(r.calls).toEqual(["a"]);
  });

  it("makes at most maxAttempts calls in total and throws the last error", async () => {
    const h = harness();
    const last = upstreamTimeout("b", "connect");
    const r = h.request(
      [a, b, c],
      { a: [upstreamTimeout("a", "connect")], b: [last], c: ["never"] },
      {
        ...DEFAULT_RETRY,
        maxAttempts: 2,
      },
    );
    expect(await rejection(r.result)).toBe(last);
    expect(r.calls).toEqual(["a", "b"]);
    expect(r.headers["x-gateway-attempts"]).toBe("2");
  });

  it("spends spare attempts on retries but keeps one for each untried target", async () => {
    const h = harness();
    const policy = { ...DEFAULT_RETRY, maxAttempts: 4, retriesPerTarget: 10 };
    const r = h.request(
      [a, b],
      { a: [serverError(), serverError(), serverError()], b: [serverError()] },
      policy,
    );
    expect((await rejection(r.result)).code).toBe("upstream_http_error");
    expect(r.calls).toEqual(["a", "a", "a", "b"]);
    expect(h.sleeps).toHaveLength(2);
    expect(r.headers["x-gateway-attempts"]).toBe("4");
  });

  it("gives up a retry when the budget left is only enough for the untried targets", async () => {
    const h = harness();
    const r = h.request(
      [a, b, c],
      { a: [serverError()], b: [serverError()], c: ["from c"] },
      {
        ...DEFAULT_RETRY,
        maxAttempts: 3,
      },
    );
    await expect(r.result).resolves.toBe("from c");
    expect(r.calls).toEqual(["a", "b", "c"]);
    expect(h.sleeps).toEqual([]);
  });

  it("does not hold budget back for a target whose circuit is open", async () => {
    const breakers = createBreakerBoard(() => 1_000_000);
    const tripped = target("b", { failureThreshold: 1 });
    breakers.record(tripped, false);
    const h = harness({ breakers });
    const r = h.request([a, tripped], { a: [serverError(), "from a"] }, { ...DEFAULT_RETRY, maxAttempts: 2 });
    await expect(r.result).resolves.toBe("from a");
    expect(r.calls).toEqual(["a", "a"]);
  });

  it("does not sleep for a retry it will not be allowed to make", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [serverError()] }, { ...DEFAULT_RETRY, maxAttempts: 1 });
    expect((await rejection(r.result)).code).toBe("upstream_http_error");
    expect(r.calls).toEqual(["a"]);
    expect(h.sleeps).toEqual([]);
  });

  it("throws the last target's error when every target fails", async () => {
    const h = harness();
    const r = h.request([a, b], {
      a: [upstreamTimeout("a", "connect")],
      b: [upstreamError("x", "upstream_malformed")],
    });
    expect((await rejection(r.result)).code).toBe("upstream_malformed");
    expect(r.headers["x-gateway-attempts"]).toBe("2");
  });

  it("skips a target whose circuit is open without calling it, and records it as skipped", async () => {
    const h = harness();
    const fragileA = target("a", { failureThreshold: 1 });
    h.deps.breakers.record(fragileA, false);
    const r = h.request([fragileA, b], { b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["b"]);
    expect(r.headers["x-gateway-attempts"]).toBe("1");
    expect(r.ctx.outcome.attempts[0]).toMatchObject({ provider: "a", model: "a-model", outcome: "skipped" });
    expect(summary(r.ctx)).toEqual(["a:skipped", "b:ok"]);
  });

  it("fails with 503 circuit_open, calling nothing, when every circuit is open", async () => {
    const h = harness();
    const plan = [target("a", { failureThreshold: 1 }), target("b", { failureThreshold: 1 })];
    for (const t of plan) h.deps.breakers.record(t, false);
    const r = h.request(plan, {});
    const err = await rejection(r.result);
    expect(err.status).toBe(503);
    expect(err.code).toBe("circuit_open");
    expect(r.calls).toEqual([]);
    expect(r.headers["x-gateway-attempts"]).toBe("0");
    expect(summary(r.ctx)).toEqual(["a:skipped", "b:skipped"]);
  });

  it("says in Retry-After when the first open circuit lets a probe through", async () => {
    const h = harness();
    const plan = [
      target("a", { failureThreshold: 1, cooldownMs: 30_000 }),
      target("b", { failureThreshold: 1, cooldownMs: 12_500 }),
    ];
    for (const t of plan) h.deps.breakers.record(t, false);
    await h.deps.sleep(2_000);
    const err = await rejection(h.request(plan, {}).result);
    expect(err.code).toBe("circuit_open");
    // b's cool-down ends 10.5 s from now: rounded up to whole seconds.
    expect(err.headers["retry-after"]).toBe("11");
  });

  it("says Retry-After: 1 when the only circuit is half-open with its probes all out", async () => {
    const h = harness();
    const probing = target("a", { failureThreshold: 1, cooldownMs: 1_000, halfOpenProbes: 1 });
    h.deps.breakers.record(probing, false);
    await h.deps.sleep(1_000);
    // The probe, still waiting for its answer.
    expect(h.deps.breakers.admit(probing)).toBe(true);
    const err = await rejection(h.request([probing], {}).result);
    expect([err.code, err.headers["retry-after"]]).toEqual(["circuit_open", "1"]);
  });

  it("opens a target's circuit with its failures, so the next request skips it", async () => {
    const h = harness();
    const fragileA = target("a", { failureThreshold: 1 });
    const first = h.request([fragileA, b], { a: [upstreamTimeout("a", "connect")], b: ["one"] });
    await expect(first.result).resolves.toBe("one");
    const second = h.request([fragileA, b], { b: ["two"] });
    await expect(second.result).resolves.toBe("two");
    expect(second.calls).toEqual(["b"]);
    expect(h.deps.breakers.states().get("a/a-model")).toBe("open");
  });

  it("does not retry a target whose circuit opened on the failure just seen", async () => {
    const h = harness();
    const fragileA = target("a", { failureThreshold: 1 });
    const r = h.request([fragileA, b], { a: [serverError()], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.calls).toEqual(["a", "b"]);
  });

  it("does not count an unsupported parameter against the target", async () => {
    const h = harness();
    const fragileA = target("a", { failureThreshold: 1 });
    const r = h.request([fragileA, b], { a: [unsupportedParameter("a", "logprobs")], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(h.deps.breakers.states().get("a/a-model")).toBe("closed");
  });

  it("frees a half-open probe when the caller's fault ends it, so the next request may probe", async () => {
    const h = harness();
    const fragileA = target("a", { failureThreshold: 1, cooldownMs: 1_000 });
    h.deps.breakers.record(fragileA, false);
    h.advance(1_000);
    const probe = h.request([fragileA], { a: [callerFault()] });
    await rejection(probe.result);
    expect(h.deps.breakers.states().get("a/a-model")).toBe("half_open");
    const next = h.request([fragileA], { a: ["recovered"] });
    await expect(next.result).resolves.toBe("recovered");
    expect(h.deps.breakers.states().get("a/a-model")).toBe("closed");
  });

  it("throws the unsupported_parameter 400 when every target failed only for that reason", async () => {
    const h = harness();
    const first = unsupportedParameter("a", "logprobs");
    const r = h.request([a, b], { a: [first], b: [unsupportedParameter("b", "logprobs")] });
    const err = await rejection(r.result);
    expect(err).toBe(first);
    expect(err.status).toBe(400);
    expect(r.calls).toEqual(["a", "b"]);
  });

  it("throws the unsupported_parameter 400 when the other targets were skipped", async () => {
    const h = harness();
    const fragileB = target("b", { failureThreshold: 1 });
    h.deps.breakers.record(fragileB, false);
    const r = h.request([a, fragileB], { a: [unsupportedParameter("a", "logprobs")] });
    expect((await rejection(r.result)).code).toBe("unsupported_parameter");
  });

  it("throws the provider failure, not the 400, when a compatible target failed too", async () => {
    const h = harness();
    const r = h.request([a, b], {
      a: [unsupportedParameter("a", "logprobs")],
      b: [upstreamTimeout("b", "connect")],
    });
    expect((await rejection(r.result)).code).toBe("upstream_timeout");
  });

  it("lists every attempt on the outcome with its verdict, code, status and duration", async () => {
    const h = harness({ callMs: 7 });
    const fragileA = target("a", { failureThreshold: 1 });
    h.deps.breakers.record(fragileA, false);
    const r = h.request([fragileA, b, c], { b: [serverError(), rateLimited()], c: ["from c"] });
    await expect(r.result).resolves.toBe("from c");
    expect(r.ctx.outcome.attempts).toEqual([
      { provider: "a", model: "a-model", outcome: "skipped", code: undefined, status: undefined, ms: 0 },
      { provider: "b", model: "b-model", outcome: "failed", code: "upstream_http_error", status: 502, ms: 7 },
      {
        provider: "b",
        model: "b-model",
        outcome: "failed",
        code: "upstream_rate_limited",
        status: 429,
        ms: 7,
      },
      { provider: "c", model: "c-model", outcome: "ok", code: undefined, status: undefined, ms: 7 },
    ]);
    expect(r.headers["x-gateway-attempts"]).toBe("3");
  });
});

describe("withFallback when the caller disconnects (portable mode registers its signal)", () => {
  /** The caller's connection for request `req-1`, as functions/local/server.ts registers it. */
  function caller() {
    const controller = new AbortController();
    const forget = watchCaller("req-1", controller.signal);
    return { leave: () => controller.abort(), signal: controller.signal, forget };
  }

  it("hands run the caller's signal, so the call in flight can be aborted", async () => {
    const h = harness();
    const c = caller();
    const r = h.request([a], { a: ["from a"] });
    await expect(r.result).resolves.toBe("from a");
    expect(r.signals).toEqual([c.signal]);
    c.forget();
  });

  it("stops at a failure once the caller has gone: no retry, no fallback, a 499 client_closed", async () => {
    const h = harness();
    const c = caller();
    const fragileA = target("a", { failureThreshold: 1 });
    const leaveThenFail = () => {
      c.leave();
      return serverError();
    };
    const r = h.request([fragileA, b], { a: [leaveThenFail], b: ["from b"] });
    const err = await rejection(r.result);
    expect(err).toMatchObject({ status: 499, code: "client_closed" });
    expect(r.calls).toEqual(["a"]);
    expect(h.sleeps).toEqual([]);
    expect(summary(r.ctx)).toEqual(["a:failed:client_closed"]);
    // The caller leaving says nothing about the provider's health.
    expect(h.deps.breakers.states().get("a/a-model")).toBe("closed");
    expect(r.headers["x-gateway-attempts"]).toBe("1");
    c.forget();
  });

  it("cuts a backoff short when the caller leaves during it, and makes no further call", async () => {
    const h = harness();
    const c = caller();
    h.deps.sleep = () => {
      c.leave();
      return new Promise(() => {});
    };
    const r = h.request([a, b], { a: [serverError()], b: ["from b"] });
    expect((await rejection(r.result)).code).toBe("client_closed");
    expect(r.calls).toEqual(["a"]);
    expect(summary(r.ctx)).toEqual(["a:failed:upstream_http_error"]);
    c.forget();
  });

  it("makes no call at all when the caller left before the first one", async () => {
    const h = harness();
    const c = caller();
    c.leave();
    const r = h.request([a, b], { a: ["from a"] });
    expect((await rejection(r.result)).code).toBe("client_closed");
    expect(r.calls).toEqual([]);
    expect(r.headers["x-gateway-attempts"]).toBe("0");
    c.forget();
  });

  it("keeps an answer that arrived as the caller left: the provider did the work, and it is accounted", async () => {
    const h = harness();
    const c = caller();
    const leaveThenAnswer = () => {
      c.leave();
      return "from a";
    };
    const r = h.request([a], { a: [leaveThenAnswer] });
    await expect(r.result).resolves.toBe("from a");
    expect(summary(r.ctx)).toEqual(["a:ok"]);
    c.forget();
  });

  it("runs as before where the host reports no disconnect (Lambda)", async () => {
    const h = harness();
    const r = h.request([a, b], { a: [serverError(), serverError()], b: ["from b"] });
    await expect(r.result).resolves.toBe("from b");
    expect(r.signals).toEqual([undefined, undefined, undefined]);
  });

  it("gives a half-open circuit's probe back when the budget stops the request before the call", async () => {
    let clock = 1_000_000;
    const breakers = createBreakerBoard(() => clock);
    for (let i = 0; i < 5; i++) breakers.record(b, false);
    clock += 15_001;
    const budgets = createSqliteBudgetStore(openDatabase(":memory:"));
    const counter = { scope: "org" as const, id: "acme", period: "day" as const, periodKey: "2026-01-01" };
    const items = [{ counter, amountUsd: 1, limitUsd: 1.5 }];
    await budgets.reserve("req-1", items);
    const ctx = {
      deps: { breakers, budgets, now: () => clock, sleep: async () => {}, random: () => 0.5 },
      requestId: "req-1",
      startedAt: clock,
      headers: {},
      outcome: newOutcome("req-1", "/v1/chat/completions"),
      deferOutcome: false,
      pending: [],
      spend: {
        prices: new Map([["a/a-model", { inputPerMTok: 1, outputPerMTok: 1 }]]),
        targets: [a, b],
        bounds: { worstCaseUsd: () => 1, tokens: 10, smallerBy: "" },
        reservationUsd: 1,
        items,
        covers: [],
        tokenBuckets: [],
        tokenCharge: 0,
        windowStart: 0,
      },
    } as unknown as RequestContext;
    // `a` answers 2xx, then its body is cut: billed, so `b` needs a top-up the budget cannot hold.
    const err = await rejection(
      withFallback(ctx, [a, b], DEFAULT_RETRY, {}, async () => {
        ctx.attemptCalled = true;
        ctx.attemptAnswered = true;
        throw upstreamError("cut", "upstream_truncated");
      }),
    );
    expect(err.code).toBe("budget_exceeded");
    expect(breakers.wouldAdmit(b)).toBe(true);
  });
});

describe("judgeStream", () => {
  const timedOut = upstreamError("Provider 'c' stream took too long.", "upstream_timeout");
  it.each([
    ["a provider that broke its stream counts against its circuit", { callerStalled: false }, false],
    ["a caller who stopped reading until the call's time ran out does not", { callerStalled: true }, true],
  ])("%s", (_, end, admitted) => {
    const breakers = createBreakerBoard(() => 1_000_000);
    const ctx = { deps: { breakers } } as unknown as RequestContext;
    for (let i = 0; i < 10; i++) judgeStream(ctx, c, { error: timedOut, clientClosed: false, ...end });
    expect(breakers.wouldAdmit(c)).toBe(admitted);
  });
});
