import type { RegistrySnapshot, RegistryStore } from "./port.ts";

/**
 * Caches the registry snapshot per process. After `ttlMs` the next read checks the store's version
 * stamp (one small read) and reloads only when it moved, so a change reaches every instance within
 * ttl + one request, with no restart.
 */
export interface RegistryCache {
  get(): Promise<RegistrySnapshot>;
}

export function createRegistryCache(
  store: RegistryStore,
  ttlMs: number,
  now: () => number = Date.now,
): RegistryCache {
  let snapshot: RegistrySnapshot | undefined;
  let checkedAt = 0;
  let pending: Promise<RegistrySnapshot> | undefined;

  const refresh = async (): Promise<RegistrySnapshot> => {
    const version = await store.version();
    if (!snapshot || snapshot.version !== version) snapshot = await store.load();
    checkedAt = now();
    return snapshot;
  };

  return {
    get() {
      if (snapshot && now() - checkedAt < ttlMs) return Promise.resolve(snapshot);
      // One refresh at a time: concurrent requests share it instead of stampeding the store.
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
