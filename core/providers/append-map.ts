/**
 * A map that only grows, for pure stream reducers: each state holds one, and adding an entry returns a
 * new one without copying the entries before it. States made from one another share a single
 * underlying Map; an entry records the size it was added at, and each state reads only the entries
 * added below its own size. Adding to the newest state therefore writes in place (no other state can
 * see the entry), and adding to an older one (a reducer run twice from the same state) copies what that
 * state sees first. A spread-and-add copy per event instead makes a stream of n blocks cost n² steps,
 * which a broken or hostile provider can push into seconds of CPU.
 */
interface Shared<K, V> {
  readonly entries: Map<K, { readonly value: V; readonly at: number }>;
  /** The size of the newest state over these entries. */
  newest: number;
}

export interface AppendMap<K, V> {
  readonly shared: Shared<K, V>;
  readonly size: number;
}

export const emptyAppendMap = <K, V>(): AppendMap<K, V> => ({
  shared: { entries: new Map(), newest: 0 },
  size: 0,
});

export function lookup<K, V>(map: AppendMap<K, V>, key: K): V | undefined {
  const entry = map.shared.entries.get(key);
  return entry !== undefined && entry.at < map.size ? entry.value : undefined;
}

/** `map` with `key` set to `value` (a later value for a key wins); `map` itself reads as before. */
export function withEntry<K, V>(map: AppendMap<K, V>, key: K, value: V): AppendMap<K, V> {
  const { shared, size } = map;
  if (shared.newest === size && !shared.entries.has(key)) {
    shared.entries.set(key, { value, at: size });
    shared.newest = size + 1;
    return { shared, size: size + 1 };
  }
  const entries = new Map<K, { value: V; at: number }>();
  for (const [k, e] of shared.entries) if (e.at < size) entries.set(k, e);
  entries.set(key, { value, at: size });
  return { shared: { entries, newest: size + 1 }, size: size + 1 };
}
