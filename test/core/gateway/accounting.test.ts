import { describe, expect, it } from "vitest";
import { priceFor } from "../../../core/budgets/pricing.ts";
import type { GatewayEvent } from "../../../core/events/port.ts";
import { usageDetail } from "../../../core/events/usage.ts";
import { finishAccounting } from "../../../core/gateway/accounting.ts";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { GatewayDeps, RequestContext, RequestOutcome } from "../../../core/gateway/types.ts";

const noop = () => {};
const publisher = (events: GatewayEvent[]) => ({
  publish: async (e: GatewayEvent[]) => void events.push(...e),
});

/** A finished request of key k1 (org acme), with `deps` beside the region and a silent log. */
function contextFor(outcome: RequestContext["outcome"], deps: Record<string, unknown>): RequestContext {
  return {
    deps: {
      region: "local",
      log: { info: noop, warn: noop, error: noop },
      ...deps,
    } as unknown as GatewayDeps,
    requestId: "req-1",
    startedAt: Date.parse("2026-11-26T12:00:00Z"),
    headers: {},
    key: { id: "k1", org: "acme", sha256: "x".repeat(64) },
    outcome,
    deferOutcome: false,
    pending: [],
  } as unknown as RequestContext;
}

/** The usage event finishAccounting publishes for an outcome, as the aggregator would read it. */
async function published(edit: (o: RequestContext["outcome"]) => void) {
  const events: GatewayEvent[] = [];
  const outcome = newOutcome("req-1", "/v1/chat/completions");
  Object.assign(outcome, {
    keyId: "k1",
    org: "acme",
    model: "mock/echo",
    provider: "mock",
    providerModel: "echo",
    status: 200,
    latencyMs: 12,
    promptTokens: 40,
    completionTokens: 16,
  });
  edit(outcome);
  await finishAccounting(contextFor(outcome, { events: publisher(events) }));
  expect(events).toHaveLength(1);
  return usageDetail.safeParse(events[0]?.detail);
}

describe("finishAccounting's usage event", () => {
  it.each<[string, (o: RequestContext["outcome"]) => void]>([
    [
      "token counts a provider should not report (a fraction, a negative)",
      (o) => {
        o.promptTokens = 40.5;
        o.completionTokens = -3;
      },
    ],
    [
      "durations of a wall clock that stepped back",
      (o) => {
        o.latencyMs = -5;
        o.ttftMs = -2;
        o.attempts.push({ provider: "mock", model: "echo", outcome: "ok", ms: -1 });
      },
    ],
    [
      "an overlong service tier name",
      (o) => {
        o.serviceTier = "t".repeat(100);
      },
    ],
  ])("is one the aggregator takes, whatever %s", async (_, edit) => {
    const parsed = await published(edit);
    expect(parsed.error).toBeUndefined();
  });

  const skipped = [{ provider: "mock", model: "made-up-2", outcome: "skipped" as const, ms: 0 }];
  const failed = [{ provider: "mock", model: "made-up-3", outcome: "failed" as const, ms: 3 }];
  it.each([
    ["an unknown model refused before any call", "made-up-1", 404, undefined, [], "(other)"],
    ["a configured alias refused before any call", "smart", 429, undefined, [], "smart"],
    [
      "a provider's model whose open circuit was skipped",
      "mock/made-up-2",
      503,
      undefined,
      skipped,
      "(other)",
    ],
    ["a provider's model whose call failed", "mock/made-up-3", 502, undefined, failed, "mock/made-up-3"],
    ["a provider's model that was served", "mock/echo", 200, "mock", [], "mock/echo"],
  ])(
    "names %s in its usage event as the registry knows it",
    async (_, model, status, provider, attempts, alias) => {
      const events: GatewayEvent[] = [];
      const outcome = newOutcome("req-1", "/v1/chat/completions");
      Object.assign(outcome, { keyId: "k1", org: "acme", model, status, provider, latencyMs: 1, attempts });
      const ctx = contextFor(outcome, { events: publisher(events) });
      Object.assign(ctx, {
        snapshot: { models: new Map([["smart", {}]]), providers: new Map(), orgs: new Map() },
      });
      await finishAccounting(ctx);
      expect(usageDetail.parse(events[0]?.detail).alias).toBe(alias);
    },
  );

  it.each([
    ["a provider's model that was served", "mock/echo", 200, "echo", "echo"],
    ["a made-up provider model whose provider refused it", "mock/made-up-3", 404, "made-up-3", "(other)"],
    [
      "a dated name of a priced model that was never served",
      "mock/gpt-4o-20990101",
      502,
      "gpt-4o-20990101",
      "(other)",
    ],
    ["a configured alias whose last target failed", "smart", 502, "made-up-4", "made-up-4"],
    ["a request refused before any call", "smart", 429, undefined, null],
  ])(
    "rolls %s up under the provider model a report may name",
    async (_, model, status, providerModel, rolledUp) => {
      const events: GatewayEvent[] = [];
      const outcome = newOutcome("req-1", "/v1/chat/completions");
      const provider = providerModel === undefined ? undefined : "mock";
      Object.assign(outcome, {
        keyId: "k1",
        org: "acme",
        model,
        status,
        provider,
        providerModel,
        latencyMs: 1,
      });
      const ctx = contextFor(outcome, { events: publisher(events) });
      Object.assign(ctx, {
        snapshot: { models: new Map([["smart", {}]]), providers: new Map(), orgs: new Map() },
      });
      await finishAccounting(ctx);
      expect(usageDetail.parse(events[0]?.detail).providerModel).toBe(rolledUp);
    },
  );

  it("carries the counts as whole numbers of at least 0", async () => {
    const parsed = await published((o) => {
      o.promptTokens = 40.5;
      o.completionTokens = -3;
    });
    expect(parsed.data?.tokens).toMatchObject({ input: 41, output: 0 });
  });

  /**
   * A served request of org acme under a daily budget, finished: what it settled and what it published.
   * `spend` is the request's spend state over the defaults (one reservation of `reservationUsd`).
   */
  async function budgeted(
    fields: Partial<RequestContext["outcome"]>,
    spend: Record<string, unknown>,
    events: GatewayEvent[] = [],
    events$ = publisher(events) as { publish(e: GatewayEvent[]): Promise<void> },
  ) {
    const settled: Array<[string, number, number]> = [];
    const outcome = newOutcome("req-1", "/v1/chat/completions");
    Object.assign(outcome, { keyId: "k1", org: "acme", status: 200, latencyMs: 12, ...fields });
    const ctx = contextFor(outcome, {
      events: events$,
      // What was published by the time each settlement was made.
      budgets: { settle: async (id: string, usd: number) => void settled.push([id, usd, events.length]) },
    });
    const reservationUsd = (spend.reservationUsd as number | undefined) ?? 1;
    const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" };
    ctx.spend = {
      targets: [],
      bounds: { worstCaseUsd: () => reservationUsd, tokens: 0, smallerBy: "" },
      reservationUsd,
      items: [{ counter, amountUsd: reservationUsd, limitUsd: 5 }],
      covers: [],
      tokenBuckets: [],
      tokenCharge: 0,
      windowStart: 0,
      ...spend,
    } as unknown as RequestContext["spend"];
    await finishAccounting(ctx);
    return { settled, detail: events[0] && usageDetail.parse(events[0].detail) };
  }

  const served = {
    model: "oa/gpt-4o",
    provider: "oa",
    providerModel: "gpt-4o",
    promptTokens: 1000,
    completionTokens: 100,
  };
  const gpt4o = { prices: new Map([["oa/gpt-4o", priceFor("openai", "gpt-4o")!]]) };

  it("settles only once its usage event is published, so a death between the two loses nothing", async () => {
    const { settled } = await budgeted(served, gpt4o);
    expect(settled).toEqual([["req-1", 0.0035, 1]]);
  });

  it("leaves its reservation open when its usage event cannot be published, for the next start or the sweep", async () => {
    const refusing = { publish: async () => Promise.reject(new Error("bus down")) };
    const { settled } = await budgeted(served, gpt4o, [], refusing);
    expect(settled).toEqual([]);
  });

  it("names the reservations it settles, and to what, so the aggregator can settle them again", async () => {
    const { settled, detail } = await budgeted(
      {
        model: "oa/gpt-4o",
        provider: "oa",
        providerModel: "gpt-4o",
        promptTokens: 1000,
        completionTokens: 100,
      },
      { prices: new Map([["oa/gpt-4o", priceFor("openai", "gpt-4o")!]]) },
    );
    expect(detail?.settlements).toEqual(settled.map(([id, usd]) => ({ id, usd })));
    expect(detail?.settlements).toEqual([{ id: "req-1", usd: 0.0035 }]);
  });

  it("names the limits the request was admitted under, which the aggregator judges its thresholds by too", async () => {
    const { detail } = await budgeted(served, gpt4o);
    expect(detail?.budgetLimits).toEqual([{ scope: "org", id: "acme", period: "day", limitUsd: 5 }]);
  });

  it("settles a budgeted stream cut before its bill at the serving target's worst case, not the alias's costliest", async () => {
    const worst: Record<string, number> = { oa: 0.00495, an: 0.0155625 };
    // Served by the cheaper target of a two-target alias, with only an early count.
    const { settled, detail } = await budgeted(
      {
        model: "mixed",
        provider: "oa",
        providerModel: "gpt-4o",
        promptTokens: 62,
        completionTokens: 1,
        usagePartial: true,
      },
      {
        prices: new Map([
          ["oa/gpt-4o", priceFor("openai", "gpt-4o")!],
          ["an/claude-sonnet-4-5", priceFor("anthropic", "claude-sonnet-4-5")!],
        ]),
        targets: [
          { provider: { id: "oa" }, model: "gpt-4o" },
          { provider: { id: "an" }, model: "claude-sonnet-4-5" },
        ],
        bounds: {
          worstCaseUsd: (t: { provider: { id: string } }) => worst[t.provider.id],
          tokens: 0,
          smallerBy: "",
        },
        reservationUsd: worst.an,
      },
    );
    expect(settled).toEqual([["req-1", 0.00495, 1]]);
    expect(detail).toMatchObject({ costUsd: 0.00495, usageReported: false });
  });

  it.each<[string, Partial<RequestOutcome>, unknown[]]>([
    ["at the tier OpenAI said serves it", { serviceTier: "default" }, ["default", "default"]],
    ["at any tier, when OpenAI never said", {}, [undefined, undefined]],
  ])("bounds a budgeted stream cut before its bill %s", async (_, said, tiers) => {
    const asked: unknown[] = [];
    const bounds = {
      worstCaseUsd: (_t: unknown, _p: unknown, _c: unknown, tier?: string) => {
        asked.push(tier);
        return 0.001;
      },
      tokens: 0,
      smallerBy: "",
    };
    const spend = {
      prices: new Map([["oa/gpt-4o", priceFor("openai", "gpt-4o")!]]),
      targets: [{ provider: { id: "oa" }, model: "gpt-4o" }],
      bounds,
      reservationUsd: 0.002,
    };
    // Cut with no count at all, then with only an early one: both are priced by the bound.
    const base = { model: "gpt-4o", provider: "oa", providerModel: "gpt-4o", ...said };
    expect((await budgeted(base, spend)).settled).toEqual([["req-1", 0.001, 1]]);
    await budgeted({ ...base, promptTokens: 62, completionTokens: 1, usagePartial: true }, spend);
    expect(asked).toEqual(tiers);
  });
});
