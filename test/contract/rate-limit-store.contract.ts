import { beforeEach, describe, expect, it } from "vitest";
import { type RateBucket, type RateLimitStore, WINDOW_MS, windowStart } from "../../core/ratelimit/port.ts";

/** Stores over one fresh, shared storage: `storeOf(client)` is an independent instance (own client). */
export type RateLimitStorage = (client: number) => RateLimitStore;

/** 2026-11-26T10:00:30Z: mid-window, so the window is [10:00:00, 10:01:00). */
const NOW = Date.UTC(2026, 10, 26, 10, 0, 30);
const START = windowStart(NOW);
const requests = (amount = 1, limit = 3): RateBucket => ({ name: "key:k1:requests", limit, amount });
const tokens = (amount: number, limit = 100): RateBucket => ({ name: "key:k1:tokens", limit, amount });

export function rateLimitStoreContract(
  name: string,
  makeStorage: () => Promise<RateLimitStorage>,
  clients: number,
): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    let storeOf: RateLimitStorage;
    let store: RateLimitStore;
    beforeEach(async () => {
      storeOf = await makeStorage();
      store = storeOf(0);
    });

    it("refuses the (N+1)-th request in a window with remaining 0 and the window end; the next window is fresh", async () => {
      for (let i = 0; i < 3; i++)
        expect(await store.consume([requests()], NOW + i)).toEqual({
          ok: true,
          remaining: { "key:k1:requests": 2 - i },
          resetAt: START + WINDOW_MS,
        });
      expect(await store.consume([requests()], NOW + 10)).toEqual({
        ok: false,
        remaining: { "key:k1:requests": 0 },
        refusedBy: "key:k1:requests",
        resetAt: START + WINDOW_MS,
      });
      const next = await store.consume([requests()], START + WINDOW_MS);
      expect(next).toMatchObject({
        ok: true,
        remaining: { "key:k1:requests": 2 },
        resetAt: START + 2 * WINDOW_MS,
      });
      expect(next.refusedBy).toBeUndefined();
    });

    it("takes the request and token buckets all or nothing", async () => {
      expect(await store.consume([requests(), tokens(60)], NOW)).toMatchObject({
        ok: true,
        remaining: { "key:k1:requests": 2, "key:k1:tokens": 40 },
      });
      expect(await store.consume([requests(), tokens(60)], NOW)).toEqual({
        ok: false,
        remaining: { "key:k1:requests": 2, "key:k1:tokens": 40 },
        refusedBy: "key:k1:tokens",
        resetAt: START + WINDOW_MS,
      });
      // The refused call took no request either.
      expect(await store.consume([requests(), tokens(40)], NOW)).toMatchObject({
        ok: true,
        remaining: { "key:k1:requests": 1, "key:k1:tokens": 0 },
      });
    });

    it("refuses an amount larger than the limit without taking anything", async () => {
      expect(await store.consume([requests(), tokens(101)], NOW)).toMatchObject({
        ok: false,
        refusedBy: "key:k1:tokens",
        remaining: { "key:k1:requests": 3, "key:k1:tokens": 100 },
      });
    });

    it("adjusts a token bucket down and up; remaining is clamped to 0..limit", async () => {
      await store.consume([tokens(90)], NOW);
      await store.adjust("key:k1:tokens", -50, START);
      expect(await store.consume([tokens(50)], NOW)).toMatchObject({
        ok: true,
        remaining: { "key:k1:tokens": 10 },
      });
      await store.adjust("key:k1:tokens", 1_000, START);
      expect(await store.consume([tokens(1)], NOW)).toMatchObject({
        ok: false,
        remaining: { "key:k1:tokens": 0 },
      });
      // Another window is untouched by the correction.
      expect((await store.consume([tokens(100)], NOW + WINDOW_MS)).ok).toBe(true);
      await store.adjust("key:k1:requests", -5, START);
      expect(await store.consume([requests(1, 3)], NOW)).toMatchObject({
        remaining: { "key:k1:requests": 3 },
      });
    });

    it("keeps a minute's counts through a clock stepped minutes ahead for a moment and back", async () => {
      await store.consume([requests(1, 2)], NOW);
      await store.consume([requests(1, 2)], NOW + 1_000);
      // NTP (or a resumed VM) puts the clock 5 minutes ahead for a few requests, then back.
      for (const org of ["a", "b", "c", "d"])
        await store.consume([{ ...requests(1, 2), name: `org:${org}:requests` }], NOW + 5 * 60_000);
      expect((await store.consume([requests(1, 2)], NOW + 2_000)).ok).toBe(false);
    });

    it("keeps buckets apart by name", async () => {
      await store.consume([requests(3)], NOW);
      expect((await store.consume([{ ...requests(), name: "key:k2:requests" }], NOW)).ok).toBe(true);
    });

    it("lets exactly 20 of 50 concurrent requests through a limit of 20, from several clients", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          storeOf(i % clients).consume([requests(1, 20), tokens(1, 1000)], NOW),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(20);
      for (const r of results) if (!r.ok) expect(r.refusedBy).toBe("key:k1:requests");
      expect(await store.consume([tokens(981, 1000)], NOW)).toMatchObject({ ok: false });
      expect(await store.consume([tokens(980, 1000)], NOW)).toMatchObject({ ok: true });
    }, 30_000);
  });
}
