import { describe, expect, it } from "vitest";
import { cachedKeyStore } from "../../../core/keys/cache.ts";
import type { ApiKeyRecord, KeyStore } from "../../../core/keys/port.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

const record: ApiKeyRecord = {
  id: "k1",
  org: "o",
  role: "api",
  sha256: "a".repeat(64),
  createdAt: "2026-01-01",
};

/** The real SQLite store, counting lookups. */
function countingStore(): { store: KeyStore; lookups: () => number } {
  const real = createSqliteKeyStore(openDatabase(":memory:"));
  let n = 0;
  return {
    lookups: () => n,
    store: {
      ...real,
      findBySha256: (h) => {
        n++;
        return real.findBySha256(h);
      },
    },
  };
}

describe("cachedKeyStore", () => {
  it("serves a found key from memory until the TTL passes", async () => {
    let t = 0;
    const { store, lookups } = countingStore();
    await store.put(record);
    const cached = cachedKeyStore(store, 1_000, 10, () => t);
    expect(await cached.findBySha256(record.sha256)).toMatchObject({ id: "k1" });
    expect(await cached.findBySha256(record.sha256)).toMatchObject({ id: "k1" });
    expect(lookups()).toBe(1);
    t = 1_001;
    await cached.findBySha256(record.sha256);
    expect(lookups()).toBe(2);
  });

  it("never caches a miss, so a key created a moment ago works at once", async () => {
    const { store, lookups } = countingStore();
    const cached = cachedKeyStore(store, 1_000);
    expect(await cached.findBySha256(record.sha256)).toBeUndefined();
    await store.put(record);
    expect(await cached.findBySha256(record.sha256)).toMatchObject({ id: "k1" });
    expect(lookups()).toBe(2);
  });

  it("keeps at most maxEntries keys", async () => {
    const { store, lookups } = countingStore();
    for (const c of "abc") await store.put({ ...record, id: c, sha256: c.repeat(64) });
    const cached = cachedKeyStore(store, 60_000, 2);
    for (const c of "abc") await cached.findBySha256(c.repeat(64));
    await cached.findBySha256("a".repeat(64));
    expect(lookups()).toBe(4);
  });
  it("does not put back a record that a lookup read before an update finished", async () => {
    const real = createSqliteKeyStore(openDatabase(":memory:"));
    await real.put(record);
    let release: () => void = () => {};
    const slow: KeyStore = {
      ...real,
      // The lookup reads the old record, then its answer arrives only after the update.
      findBySha256: async (h) => {
        const found = await real.findBySha256(h);
        await new Promise<void>((r) => {
          release = r;
        });
        return found;
      },
    };
    const cached = cachedKeyStore(slow, 60_000);
    const racing = cached.findBySha256(record.sha256);
    await new Promise((r) => setImmediate(r));
    await cached.update({ ...record, name: "renamed" }, record);
    release();
    expect((await racing)?.name).toBeUndefined();
    const next = cached.findBySha256(record.sha256);
    await new Promise((r) => setImmediate(r));
    release();
    expect(await next).toMatchObject({ name: "renamed" });
  });
  it("forgets what it remembered when a write throws, which may have written before its answer was lost", async () => {
    const real = createSqliteKeyStore(openDatabase(":memory:"));
    await real.put(record);
    const lossy: KeyStore = {
      ...real,
      put: async (r) => {
        await real.put(r);
        throw new Error("connection reset");
      },
    };
    const cached = cachedKeyStore(lossy, 60_000);
    expect((await cached.findBySha256(record.sha256))?.name).toBeUndefined();
    await expect(cached.put({ ...record, name: "renamed" })).rejects.toThrow("connection reset");
    expect(await cached.findBySha256(record.sha256)).toMatchObject({ name: "renamed" });
  });
});
