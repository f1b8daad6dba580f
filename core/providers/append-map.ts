/**
 * A map that only grows, for pure stream reducers: each state holds one, and setting a key returns a
 * new one without copying the entries before it. States made from one another share the underlying
 * storage: each value set records the size it was set at (a key set again keeps its earlier values),
 * and each state reads, per key, the latest value set below its own size. Setting on the newest state
 * therefore writes in place (no other state can see the value), and setting on an older one (a reducer
 * run twice from the same state) copies what that state sees first. A spread-and-add copy per event
 * instead makes a stream of n blocks cost n² steps, which a broken or hostile provider can push into
 * seconds of CPU; so would copying on a key set again (a provider repeating a block index).
 */
interface Version<V> {
  readonly value: V;
  readonly at: number;
}

interface Shared<K, V> {
  /** Each key's values, oldest first. */
  readonly versions: Map<K, Version<V>[]>;
  /** The size of the newest state over this storage. */
  newest: number;
}

export interface AppendMap<K, V> {
  readonly shared: Shared<K, V>;
  /** How many values were set to make this state (a key set twice counts twice). */
  readonly size: number;
}

export const emptyAppendMap = <K, V>(): AppendMap<K, V> => ({
  shared: { versions: new Map(), newest: 0 },
  size: 0,
});

export function lookup<K, V>(map: AppendMap<K, V>, key: K): V | undefined {
  const list = map.shared.versions.get(key);
  if (list === undefined) return undefined;
  // The newest state finds its value last; an older one walks back past what came after it.
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.at < map.size) return list[i]!.value;
  return undefined;
}

/** `map` with `key` set to `value`; `map` itself reads as before. */
export function withEntry<K, V>(map: AppendMap<K, V>, key: K, value: V): AppendMap<K, V> {
  const { shared, size } = map;
  const version = { value, at: size };
  if (shared.newest === size) {
    const list = shared.versions.get(key);
    if (list) list.push(version);
    else shared.versions.set(key, [version]);
    shared.newest = size + 1;
    return { shared, size: size + 1 };
  }
  const versions = new Map<K, Version<V>[]>();
  for (const [k, list] of shared.versions) {
    const seen = list.filter((v) => v.at < size);
    if (seen.length > 0) versions.set(k, seen);
  }
  const list = versions.get(key);
  if (list) list.push(version);
  else versions.set(key, [version]);
  return { shared: { versions, newest: size + 1 }, size: size + 1 };
}
