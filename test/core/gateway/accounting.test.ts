import { describe, expect, it } from "vitest";
import type { GatewayEvent } from "../../../core/events/port.ts";
import { usageDetail } from "../../../core/events/usage.ts";
import { finishAccounting } from "../../../core/gateway/accounting.ts";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { GatewayDeps, RequestContext } from "../../../core/gateway/types.ts";

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
  const noop = () => {};
  const ctx = {
    deps: {
      region: "local",
      log: { info: noop, warn: noop, error: noop },
      events: { publish: async (e: GatewayEvent[]) => void events.push(...e) },
    } as unknown as GatewayDeps,
    requestId: "req-1",
    startedAt: Date.parse("2026-11-26T12:00:00Z"),
    headers: {},
    key: { id: "k1", org: "acme", sha256: "x".repeat(64) },
    outcome,
    deferOutcome: false,
    pending: [],
  } as unknown as RequestContext;
  await finishAccounting(ctx);
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

  it("carries the counts as whole numbers of at least 0", async () => {
    const parsed = await published((o) => {
      o.promptTokens = 40.5;
      o.completionTokens = -3;
    });
    expect(parsed.data?.tokens).toMatchObject({ input: 41, output: 0 });
  });
});
