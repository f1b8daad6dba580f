import type { ApiKeyRecord, KeyStore } from "./port.ts";

/**
 * Remembers found keys for `ttlMs` so the hot path does not hash-lookup the store on every request.
 * Misses are not cached: a key created a moment ago works at once, and a flood of wrong keys cannot
 * fill memory. A revoked or re-scoped key takes effect within the TTL, like the registry cache.
 *
 * Invariant: a lookup caches its answer only if no write through this store finished while it was
 * reading, so a lookup that read a key just before a PATCH or revocation cannot put the old record
 * back after the write cleared it.
 */
export function cachedKeyStore(
  store: KeyStore,
  ttlMs: number,
  maxEntries = 10_000,
  now: () => number = Date.now,
): KeyStore {
  const hits = new Map<string, { record: ApiKeyRecord; until: number }>();
  let generation = 0;
  const forget = () => {
    generation++;
    hits.clear();
  };
  return {
    async findBySha256(sha256) {
      const hit = hits.get(sha256);
      const t = now();
      if (hit && hit.until > t) return hit.record;
      const started = generation;
      const record = await store.findBySha256(sha256);
      if (started !== generation) return record;
      if (record) {
        if (hits.size >= maxEntries) hits.delete(hits.keys().next().value as string);
        hits.set(sha256, { record, until: t + ttlMs });
      } else hits.delete(sha256);
      return record;
    },
    put: async (record) => {
      // Also when the put fails: it may have written before its answer was lost.
      try {
        await store.put(record);
      } finally {
        forget();
      }
    },
    create: (record, within) => store.create(record, within),
    update: async (record, previous, within) => {
      try {
        return await store.update(record, previous, within);
      } finally {
        forget();
      }
    },
    count: (role) => store.count(role),
    list: () => store.list(),
    get: (id) => store.get(id),
    remove: async (id, within) => {
      // This process stops accepting the key at once (other instances within their TTL), also when the
      // answer to a removal that was made is lost.
      try {
        return await store.remove(id, within);
      } finally {
        forget();
      }
    },
  };
}
