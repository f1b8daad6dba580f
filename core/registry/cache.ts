import type { RegistrySnapshot, RegistryStore } from "./port.ts";

/**
 * Caches the registry snapshot per process. After `ttlMs` the next read checks the store's version
 * stamp (one small read) and reloads only when it moved, so a change reaches every instance within
 * ttl + one request, with no restart. `expire()` makes the next read check at once: the instance that
 * made a change (portable mode's admin API) applies it to the very next request.
 *
 * Two regions' writes meet only through global-table replication, item by item, last writer wins: a
 * version stamp can arrive before the entry it covers, and two regions' bumps can end at one number
 * while each region loaded its own. So a reload that saw the version move is followed by one more,
 * SETTLE_MS later, whatever the version says then; and no snapshot is kept past MAX_AGE_MS.
 */
export const SETTLE_MS = 5_000;
export const MAX_AGE_MS = 60_000;

export interface RegistryCache {
  get(): Promise<RegistrySnapshot>;
  expire(): void;
}

export function createRegistryCache(
  store: RegistryStore,
  ttlMs: number,
  now: () => number = Date.now,
): RegistryCache {
  let snapshot: RegistrySnapshot | undefined;
  let checkedAt = 0;
  // When the snapshot is reloaded whatever the version says (SETTLE_MS, MAX_AGE_MS).
  let reloadAt = 0;
  let pending: Promise<RegistrySnapshot> | undefined;
  // Bumped by expire(): a refresh that began before a change may have read the old version, so its
  // result is served to whoever awaited it but not trusted for the TTL.
  let generation = 0;

  const refresh = async (): Promise<RegistrySnapshot> => {
    const started = generation;
    const at = now();
    const version = await store.version();
    const moved = snapshot !== undefined && snapshot.version !== version;
    if (!snapshot || moved || at >= reloadAt) {
      snapshot = await store.load();
      reloadAt = at + (moved ? SETTLE_MS : MAX_AGE_MS);
    }
    checkedAt = started === generation ? now() : 0;
    return snapshot;
  };

  return {
    get() {
      if (snapshot && now() - checkedAt < ttlMs) return Promise.resolve(snapshot);
      // One refresh at a time: concurrent requests share it instead of stampeding the store.
      if (!pending) {
        const current: Promise<RegistrySnapshot> = refresh().finally(() => {
          if (pending === current) pending = undefined;
        });
        pending = current;
      }
      return pending;
    },
    expire() {
      generation++;
      checkedAt = 0;
      pending = undefined;
    },
  };
}

/** `store` whose writes expire `cache` once they have landed, for the admin API of the same process. */
export function expiringOnWrite(store: RegistryStore, cache: RegistryCache): RegistryStore {
  const after =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await write(...args);
      } finally {
        // Also after a failed write: expiring costs one version read, and a write may have landed.
        cache.expire();
      }
    };
  return {
    load: () => store.load(),
    version: () => store.version(),
    list: (kind) => store.list(kind),
    get: (kind, id) => store.get(kind, id),
    applyConfig: after((config) => store.applyConfig(config)),
    create: after((kind, doc, guard, within) => store.create(kind, doc, guard, within)),
    replace: after((kind, doc, guard, within) => store.replace(kind, doc, guard, within)),
    remove: after((kind, id, guard, within) => store.remove(kind, id, guard, within)),
    bump: after((guard, within) => store.bump(guard, within)),
  };
}
