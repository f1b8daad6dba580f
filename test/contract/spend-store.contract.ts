import { beforeEach, describe, expect, it } from "vitest";
import type { SpendStore, SpendStoreOptions } from "../../core/budgets/spend-port.ts";
import { usage } from "../fixtures/usage.ts";

/** Stores over one fresh, shared storage: `storeOf(client)` is an independent instance (own client). */
export type SpendStorage = (client: number, options?: SpendStoreOptions) => SpendStore;

const row = { day: "2026-11-26", org: "acme", keyId: "k1", model: "gpt-4o", provider: "openai" };

export function spendStoreContract(
  name: string,
  makeStorage: () => Promise<SpendStorage>,
  clients: number,
): void {
  describe(`SpendStore contract: ${name}`, () => {
    let storeOf: SpendStorage;
    let store: SpendStore;
    beforeEach(async () => {
      storeOf = await makeStorage();
      store = storeOf(0);
    });

    it("records a usage event once: a redelivery returns false and changes nothing", async () => {
      expect(await store.record(usage("r1"))).toBe(true);
      expect(await store.record(usage("r1", { costUsd: 9 }))).toBe(false);
      expect(await store.query({ from: "2026-11-26", to: "2026-11-26" })).toEqual([
        { ...row, requests: 1, inputTokens: 100, outputTokens: 20, costUsd: 0.1 },
      ]);
      expect(await store.periodSpend("org", "acme", "2026-11-26")).toBe(0.1);
    });

    it("counts an event redelivered 5 times concurrently, from several clients, once", async () => {
      await store.record(usage("r0"));
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => storeOf(i % clients).record(usage("r1"))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.query({ org: "acme", from: "2026-11-26", to: "2026-11-26" })).toEqual([
        { ...row, requests: 2, inputTokens: 200, outputTokens: 40, costUsd: 0.2 },
      ]);
    }, 30_000);

    it("sums costs exactly and keeps day and month period totals for org and key (a key by its org and id)", async () => {
      await store.record(usage("r1", { costUsd: 0.1 }));
      await store.record(usage("r2", { costUsd: 0.2 }));
      await store.record(usage("r3", { costUsd: 0.7, keyId: "k2", time: "2026-11-27T23:59:59.000Z" }));
      await store.record(usage("r4", { costUsd: 5, time: "2026-12-01T00:00:00.000Z" }));
      expect(await store.periodSpend("org", "acme", "2026-11-26")).toBe(0.3);
      expect(await store.periodSpend("org", "acme", "2026-11-27")).toBe(0.7);
      expect(await store.periodSpend("org", "acme", "2026-11")).toBe(1);
      expect(await store.periodSpend("org", "acme", "2026-12")).toBe(5);
      expect(await store.periodSpend("key", "acme/k1", "2026-11")).toBe(0.3);
      expect(await store.periodSpend("key", "acme/k2", "2026-11-27")).toBe(0.7);
      expect(await store.periodSpend("key", "acme/k2", "2026-11-26")).toBe(0);
      expect(await store.periodSpend("org", "nobody", "2026-11")).toBe(0);
    });

    it("rolls a billed failed attempt up under its own provider and the rest under the target that served", async () => {
      const attempts = [
        { provider: "anthropic", model: "claude", outcome: "failed", ms: 90, answered: true, costUsd: 0.01 },
        { provider: "openai", model: "gpt-4o", outcome: "ok", ms: 480 },
      ];
      await store.record(usage("billed", { costUsd: 0.05, attempts } as Parameters<typeof usage>[1]));
      expect(await store.query({ org: "acme", from: "2026-11-26", to: "2026-11-26" })).toEqual([
        {
          ...row,
          model: "claude",
          provider: "anthropic",
          requests: 0,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0.01,
        },
        { ...row, requests: 1, inputTokens: 100, outputTokens: 20, costUsd: 0.04 },
      ]);
      expect(await store.periodSpend("org", "acme", "2026-11-26")).toBe(0.05);
    });

    it("counts events cheaper than a micro-dollar: 21 × $0.0000002 report $0.0000042", async () => {
      for (let i = 0; i < 21; i++) await store.record(usage(`tiny-${i}`, { costUsd: 0.0000002 }));
      const [only] = await store.query({ org: "acme", from: "2026-11-26", to: "2026-11-26" });
      expect(only?.costUsd).toBe(0.0000042);
      expect(await store.periodSpend("org", "acme", "2026-11")).toBe(0.0000042);
      expect(await store.periodSpend("key", "acme/k1", "2026-11-26")).toBe(0.0000042);
    });

    it("queries by org, key, model and inclusive day range", async () => {
      await store.record(usage("a", { time: "2026-11-25T12:00:00.000Z" }));
      await store.record(usage("b"));
      await store.record(
        usage("c", { keyId: "k2", provider: "anthropic", providerModel: "claude", costUsd: 0.3 }),
      );
      await store.record(usage("d", { org: "globex", keyId: "g1", time: "2026-11-27T00:00:00.000Z" }));
      await store.record(usage("e", { provider: null, providerModel: null, costUsd: 0, status: 503 }));
      const all = await store.query({ from: "2026-11-25", to: "2026-11-27" });
      expect(all.map((r) => [r.day, r.org, r.keyId, r.provider, r.model])).toEqual([
        ["2026-11-25", "acme", "k1", "openai", "gpt-4o"],
        ["2026-11-26", "acme", "k1", "none", "smart"],
        ["2026-11-26", "acme", "k1", "openai", "gpt-4o"],
        ["2026-11-26", "acme", "k2", "anthropic", "claude"],
        ["2026-11-27", "globex", "g1", "openai", "gpt-4o"],
      ]);
      const days = async (q: Parameters<SpendStore["query"]>[0]) =>
        (await store.query(q)).map((r) => `${r.day}/${r.org}/${r.keyId}/${r.model}`);
      expect(await days({ org: "acme", from: "2026-11-26", to: "2026-11-27" })).toEqual([
        "2026-11-26/acme/k1/smart",
        "2026-11-26/acme/k1/gpt-4o",
        "2026-11-26/acme/k2/claude",
      ]);
      expect(await days({ org: "acme", keyId: "k1", from: "2026-11-01", to: "2026-11-30" })).toEqual([
        "2026-11-25/acme/k1/gpt-4o",
        "2026-11-26/acme/k1/smart",
        "2026-11-26/acme/k1/gpt-4o",
      ]);
      expect(await days({ model: "gpt-4o", from: "2026-11-26", to: "2026-11-27" })).toEqual([
        "2026-11-26/acme/k1/gpt-4o",
        "2026-11-27/globex/g1/gpt-4o",
      ]);
      expect(await days({ keyId: "k2", from: "2026-11-20", to: "2026-11-30" })).toEqual([
        "2026-11-26/acme/k2/claude",
      ]);
      expect(
        await days({ org: "acme", model: "claude", keyId: "k1", from: "2026-11-26", to: "2026-11-26" }),
      ).toEqual([]);
      expect(await days({ org: "acme", from: "2026-11-27", to: "2026-11-26" })).toEqual([]);
    });

    it("claims a threshold once under 20 concurrent callers", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          storeOf(i % clients).markThreshold("org:acme:month:2026-11:80", `r${i}`),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.markThreshold("org:acme:month:2026-11:100", "r1")).toBe(true);
      expect(await store.markThreshold("org:acme:month:2026-11:100", "r2")).toBe(false);
    });

    it("refuses a claim to a copy of its owner's event processed at the same time", async () => {
      const key = "org:acme:day:2026-11-26:50";
      const takes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => storeOf(i % clients).markThreshold(key, "r1")),
      );
      expect(takes.filter(Boolean)).toHaveLength(1);
      expect(await store.markThreshold(key, "r1")).toBe(false);
    });

    it("lets the owner of an unpublished claim take it again once its lease ran out, and nobody once it is published", async () => {
      const key = "org:acme:day:2026-11-26:80";
      const leased = (client: number) => storeOf(client, { claimLeaseMs: 150 });
      expect(await leased(0).markThreshold(key, "r1")).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      // Its answer was lost, or its release failed: the same usage event's redelivery is still the owner.
      expect(await leased(clients - 1).markThreshold(key, "r1")).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(await leased(0).markThreshold(key, "r2")).toBe(false);
      await store.releaseThreshold(key, "r2");
      expect(await store.hasThreshold(key)).toBe(true);
      await store.thresholdPublished(key, "r1");
      expect(await leased(0).markThreshold(key, "r1")).toBe(false);
      await store.releaseThreshold(key, "r1");
      expect(await store.hasThreshold(key)).toBe(true);
    });

    it("lets a threshold whose claim was given back be claimed again, once", async () => {
      expect(await store.hasThreshold("key:k1:day:2026-11-26:50")).toBe(false);
      expect(await store.markThreshold("key:k1:day:2026-11-26:50", "r1")).toBe(true);
      expect(await storeOf(clients - 1).hasThreshold("key:k1:day:2026-11-26:50")).toBe(true);
      await store.releaseThreshold("key:k1:day:2026-11-26:50", "r1");
      expect(await store.hasThreshold("key:k1:day:2026-11-26:50")).toBe(false);
      await store.releaseThreshold("key:k1:day:2026-11-26:never-claimed", "r1");
      expect(await storeOf(clients - 1).markThreshold("key:k1:day:2026-11-26:50", "r2")).toBe(true);
      expect(await store.markThreshold("key:k1:day:2026-11-26:50", "r3")).toBe(false);
    });
  });
}
