/**
 * `to.push(...items)` without the spread: a spread passes each item as an argument, and V8 throws a
 * RangeError past about 120 000 of them, which one request's parts (a 4 MiB body holds ~150 000) can
 * reach.
 */
export function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}
