import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/parse.ts";
import { createRegistryCache, expiringOnWrite, MAX_AGE_MS, SETTLE_MS } from "../../../core/registry/cache.ts";
import type { RegistryStore } from "../../../core/registry/port.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const one = parseConfig({ providers: [{ id: "mock", kind: "mock" }] });
const two = parseConfig({
  providers: [
    { id: "mock", kind: "mock" },
    { id: "other", kind: "mock" },
  ],
});

/** The real store, counting calls: a spy, not a mock. */
function counted(store: RegistryStore) {
  const calls = { version: 0, load: 0 };
  const spy: RegistryStore = {
    ...store,
    applyConfig: (c) => store.applyConfig(c),
    version: () => {
      calls.version++;
      return store.version();
    },
    load: () => {
      calls.load++;
      return store.load();
    },
  };
  return { spy, calls };
}

const TTL = 1_000;
let store: RegistryStore;
let clock: number;
const now = () => clock;

beforeEach(async () => {
  store = createSqliteRegistryStore(openDatabase(":memory:"));
  await store.applyConfig(one);
  clock = 10_000;
});

describe("the registry cache", () => {
  it("loads the snapshot on the first get", async () => {
    const { spy, calls } = counted(store);
    const snap = await createRegistryCache(spy, TTL, now).get();
    expect(snap.providers.size).toBe(1);
    expect(calls).toEqual({ version: 1, load: 1 });
  });

  it("serves the same snapshot within the TTL without touching the store", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    const first = await cache.get();
    await store.applyConfig(two);
    clock += TTL - 1;
    expect(await cache.get()).toBe(first);
    expect(calls).toEqual({ version: 1, load: 1 });
  });

  it("re-checks the version after the TTL but keeps the snapshot when it did not move", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    const first = await cache.get();
    clock += TTL;
    expect(await cache.get()).toBe(first);
    expect(calls).toEqual({ version: 2, load: 1 });
  });

  it("reloads after the TTL when the version moved", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    await store.applyConfig(two);
    clock += TTL;
    const snap = await cache.get();
    expect(snap.providers.size).toBe(2);
    expect(snap.version).toBe(2);
    expect(calls).toEqual({ version: 2, load: 2 });
  });

  it("reloads once more SETTLE_MS after a change, for entries a replica receives after the version", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    await store.applyConfig(two);
    clock += TTL;
    await cache.get();
    expect(calls.load).toBe(2);
    // The entry another region wrote arrives now, its version bump lost to ours (last writer wins).
    const late = { ...(await store.load()), providers: new Map() };
    spy.load = async () => {
      calls.load++;
      return late;
    };
    clock += TTL;
    await cache.get();
    expect(calls.load).toBe(2);
    clock += SETTLE_MS;
    expect(await cache.get()).toBe(late);
    expect(calls.load).toBe(3);
    clock += SETTLE_MS;
    await cache.get();
    expect(calls.load).toBe(3);
  });

  it("keeps no snapshot past MAX_AGE_MS, whatever the version says", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    clock += MAX_AGE_MS - 1;
    await cache.get();
    expect(calls.load).toBe(1);
    // Checked at the next version check, a TTL later.
    clock += TTL;
    await cache.get();
    expect(calls.load).toBe(2);
  });

  it("starts a new TTL window after each re-check", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    clock += TTL;
    await cache.get();
    clock += TTL - 1;
    await cache.get();
    expect(calls.version).toBe(2);
  });

  it("shares one refresh among concurrent gets", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    const snaps = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(new Set(snaps).size).toBe(1);
    expect(calls).toEqual({ version: 1, load: 1 });

    await store.applyConfig(two);
    clock += TTL;
    const again = await Promise.all([cache.get(), cache.get()]);
    expect(again[0]).toBe(again[1]);
    expect(again[0]?.version).toBe(2);
    expect(calls).toEqual({ version: 2, load: 2 });
  });

  it("recovers after a failed refresh", async () => {
    let failNext = true;
    const flaky: RegistryStore = {
      ...store,
      version: () => (failNext ? Promise.reject(new Error("db locked")) : store.version()),
      load: () => store.load(),
    };
    const cache = createRegistryCache(flaky, TTL, now);
    await expect(cache.get()).rejects.toThrow("db locked");
    failNext = false;
    expect((await cache.get()).providers.size).toBe(1);
  });

  it("uses Date.now when no clock is given", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, 60_000);
    await cache.get();
    await cache.get();
    expect(calls.load).toBe(1);
  });

  it("checks the version on the next get after expire(), within the TTL", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    await store.applyConfig(two);
    cache.expire();
    expect((await cache.get()).providers.size).toBe(2);
    expect(calls).toEqual({ version: 2, load: 2 });
  });

  it("does not trust a refresh that began before expire(): it may have read the old version", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowNext = false;
    const slow: RegistryStore = {
      ...store,
      // Reads the stamp, then stalls before answering: a refresh caught in flight by a write.
      version: async () => {
        const v = await store.version();
        if (slowNext) await gate;
        return v;
      },
      load: () => store.load(),
    };
    const cache = createRegistryCache(slow, TTL, now);
    await cache.get();
    clock += TTL;
    slowNext = true;
    const inFlight = cache.get(); // has read version 1, and now waits
    await new Promise((r) => setImmediate(r));
    slowNext = false;
    await store.applyConfig(two);
    cache.expire();
    release();
    expect((await inFlight).version).toBe(1);
    // Still within the TTL of that refresh, yet the next get checks again and sees the change.
    expect((await cache.get()).version).toBe(2);
  });
});

describe("expiringOnWrite", () => {
  it.each([
    [
      "create",
      (s: RegistryStore) => s.create("provider", { id: "new", kind: "mock", region: "global", models: [] }),
    ],
    [
      "replace",
      (s: RegistryStore) => s.replace("provider", { id: "mock", kind: "mock", region: "eu", models: [] }),
    ],
    ["remove", (s: RegistryStore) => s.remove("provider", "mock").then(() => undefined)],
  ])("makes the cache see an admin %s on the very next get", async (_, write) => {
    const cache = createRegistryCache(store, TTL, now);
    const before = await cache.get();
    await write(expiringOnWrite(store, cache));
    const after = await cache.get();
    expect(after.version).toBe(before.version + 1);
  });

  it("leaves reads alone: they do not expire the cache", async () => {
    const { spy, calls } = counted(store);
    const cache = createRegistryCache(spy, TTL, now);
    await cache.get();
    const admin = expiringOnWrite(spy, cache);
    await admin.list("provider");
    await admin.get("provider", "mock");
    await cache.get();
    expect(calls).toEqual({ version: 1, load: 1 });
  });
});
