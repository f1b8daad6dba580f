import { describe, expect, it } from "vitest";
import { periodKey } from "../../../core/budgets/periods.ts";
import { costUsd, priceFor } from "../../../core/budgets/pricing.ts";
import { createSqliteBudgetStore } from "../../../core/budgets/sqlite-store.ts";
import type { ProviderConfig } from "../../../core/config/types.ts";
import { billedCostUsd, coverBilledAttempt } from "../../../core/gateway/billed-attempts.ts";
import { newOutcome, tokensOfUsage } from "../../../core/gateway/outcome.ts";
import { guardSpend } from "../../../core/gateway/spend-guard.ts";
import type { GatewayDeps, RequestContext } from "../../../core/gateway/types.ts";
import { createSqliteRateLimitStore } from "../../../core/ratelimit/sqlite-store.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const provider: ProviderConfig = { id: "oa", kind: "openai", region: "global", models: [] };
const plan: ResolvedTarget[] = [
  { provider, model: "gpt-4o", region: "global", weight: undefined, timeouts: DEFAULT_TIMEOUTS },
];
const bounds = { worstCaseUsd: () => 0.25, tokens: 100, smallerBy: "less input" };

/** A budgeted request that started at `startedAt` and reaches the guard when the clock reads `guardAt`. */
function request(startedAt: number, guardAt: number) {
  const budgets = createSqliteBudgetStore(openDatabase(":memory:"));
  const ctx = {
    deps: { now: () => guardAt, budgets } as unknown as GatewayDeps,
    requestId: "req-1",
    startedAt,
    headers: {},
    outcome: { ...newOutcome("req-1", "/v1/chat/completions"), model: "smart" },
    deferOutcome: false,
    pending: [],
    key: { id: "k1", org: "acme", budgets: [{ period: "day", limitUsd: 10 }] },
    snapshot: { orgs: new Map([["acme", { id: "acme", budgets: [{ period: "month", limitUsd: 100 }] }]]) },
  } as unknown as RequestContext;
  return { ctx, budgets };
}

describe("guardSpend", () => {
  it("reserves in the periods the request started in, which its usage event rolls up under", async () => {
    // Started a millisecond before midnight UTC at the end of November; guarded just after it.
    const startedAt = Date.UTC(2026, 10, 30, 23, 59, 59, 999);
    const { ctx, budgets } = request(startedAt, startedAt + 2);
    await guardSpend(ctx, plan, bounds, {});
    const counter = (scope: "org" | "key", id: string, period: "day" | "month") => ({
      scope,
      id,
      period,
      periodKey: periodKey(period, startedAt),
    });
    expect(await budgets.spent(counter("org", "acme", "month"))).toBe(0.25);
    expect(await budgets.spent(counter("key", "acme/k1", "day"))).toBe(0.25);
    expect(periodKey("month", startedAt)).toBe("2026-11");
  });

  it("keeps the model a caller named masked in its reservation, which a stopped gateway charges it by", async () => {
    const startedAt = Date.UTC(2026, 10, 26, 12);
    const { ctx, budgets } = request(startedAt, startedAt);
    ctx.outcome.model = "oa/alice@example.com";
    await guardSpend(ctx, plan, bounds, {});
    expect(budgets.unsettled().map((r) => r.reservedFor.alias)).toEqual(["oa/[EMAIL]"]);
  });

  it("settles a reservation whose store failed after writing it, and gives the minute back", async () => {
    const startedAt = Date.UTC(2026, 10, 26, 12);
    const { ctx, budgets } = request(startedAt, startedAt);
    const db = openDatabase(":memory:");
    const rateLimits = createSqliteRateLimitStore(db);
    // The reservation commits, then the reply is lost: what the caller of the store sees is an error.
    const reserve = budgets.reserve.bind(budgets);
    ctx.deps = {
      ...ctx.deps,
      rateLimits,
      region: "local",
      budgets: {
        ...budgets,
        reserve: async (...a: Parameters<typeof reserve>) => {
          await reserve(...a);
          throw new Error("connection reset");
        },
      },
    } as GatewayDeps;
    (ctx.key as { rateLimits?: unknown }).rateLimits = { requestsPerMinute: 5 };
    await expect(guardSpend(ctx, plan, bounds, {})).rejects.toThrow("connection reset");
    const counter = { scope: "key" as const, id: "acme/k1", period: "day" as const, periodKey: "2026-11-26" };
    expect(await budgets.spent(counter)).toBe(0.25);
    // What accounting does with any reservation: settle it to the request's cost, here $0.
    expect(ctx.spend?.reservationUsd).toBe(0.25);
    await budgets.settle(ctx.requestId, 0);
    expect(await budgets.spent(counter)).toBe(0);
    // The minute goes back after the answer, as pending work the host awaits.
    await Promise.all(ctx.pending);
    const taken = await rateLimits.consume(
      [{ name: "local:key:k1:requests", limit: 5, amount: 5 }],
      startedAt,
    );
    expect(taken.ok).toBe(true);
  });

  it("answers a failed reservation without waiting for the minute's give-back, which the store may fail too", async () => {
    const startedAt = Date.UTC(2026, 10, 26, 12);
    const { ctx, budgets } = request(startedAt, startedAt);
    const rateLimits = createSqliteRateLimitStore(openDatabase(":memory:"));
    ctx.deps = {
      ...ctx.deps,
      region: "local",
      // The store is down: the reservation fails, and a give-back would hang until its timeouts.
      rateLimits: { ...rateLimits, adjust: () => new Promise<void>(() => undefined) },
      budgets: {
        ...budgets,
        reserve: async () => {
          throw new Error("connection reset");
        },
      },
    } as unknown as GatewayDeps;
    (ctx.key as { rateLimits?: unknown }).rateLimits = { requestsPerMinute: 5 };
    await expect(guardSpend(ctx, plan, bounds, {})).rejects.toThrow("connection reset");
    expect(ctx.pending).toHaveLength(1);
  });
});

describe("a rate-limit refusal", () => {
  it("counts Retry-After and the reset from when the store answered, not from when it was asked", async () => {
    const startedAt = Date.UTC(2026, 10, 26, 12, 0, 10);
    const { ctx } = request(startedAt, startedAt);
    let clock = startedAt;
    const rateLimits = createSqliteRateLimitStore(openDatabase(":memory:"));
    ctx.deps = {
      ...ctx.deps,
      now: () => clock,
      region: "local",
      budgets: undefined,
      // The store takes 30 s to refuse: the minute then has 20 s left, not 50.
      rateLimits: {
        ...rateLimits,
        consume: async (...a: Parameters<typeof rateLimits.consume>) => {
          const decision = await rateLimits.consume(...a);
          clock += 30_000;
          return decision;
        },
      },
    } as unknown as GatewayDeps;
    (ctx.key as { rateLimits?: unknown }).rateLimits = { requestsPerMinute: 1 };
    await guardSpend(ctx, plan, bounds, {});
    clock = startedAt;
    const refused = await guardSpend(ctx, plan, bounds, {}).catch(
      (e: { headers: Record<string, string> }) => e,
    );
    expect((refused as { headers: Record<string, string> }).headers).toMatchObject({
      "retry-after": "20",
      "x-ratelimit-reset-requests": "20s",
    });
  });
});

describe("a failed attempt its provider billed", () => {
  it("is reserved on top, and counted, at the usage the provider reported for it where it did", async () => {
    const startedAt = Date.UTC(2026, 10, 26, 12);
    const { ctx, budgets } = request(startedAt, startedAt);
    await guardSpend(ctx, plan, bounds, {});
    const usage = { prompt_tokens: 1000, completion_tokens: 0, total_tokens: 1000 };
    const attempt = {
      provider: "oa",
      model: "gpt-4o",
      outcome: "failed" as const,
      ms: 1,
      answered: true as const,
      usage,
    };
    const billed = costUsd(priceFor("openai", "gpt-4o")!, tokensOfUsage(usage));
    expect(billed).toBeLessThan(bounds.worstCaseUsd());
    expect(billedCostUsd(ctx.spend!, attempt)).toBeCloseTo(billed, 12);
    await coverBilledAttempt(ctx, attempt);
    expect(ctx.spend?.covers).toEqual([{ id: "req-1.billed-1", usd: billed }]);
    // Both say whose request they are for, so a start after a hard kill charges them as one.
    expect(budgets.unsettled().map((r) => [r.id, r.reservedFor.requestId])).toEqual([
      ["req-1", "req-1"],
      ["req-1.billed-1", "req-1"],
    ]);
    const counter = { scope: "key" as const, id: "acme/k1", period: "day" as const, periodKey: "2026-11-26" };
    expect(await budgets.spent(counter)).toBeCloseTo(0.25 + billed, 12);
    // Without a reported usage, the worst case.
    const { answered, ...unreported } = { ...attempt, usage: undefined };
    expect(billedCostUsd(ctx.spend!, { ...unreported, answered })).toBe(0.25);
  });
});
