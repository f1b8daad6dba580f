/**
 * Whether a parsed JSON value nests objects and arrays more than `max` levels deep. Walks without
 * recursion: the point is that a hostile document (`[[[[…]]]]`, 10 KB for 5 000 levels) cannot
 * overflow the stack of whoever checks it.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ node: object; depth: number }> = [];
  if (typeof value === "object" && value !== null) stack.push({ node: value, depth: 1 });
  for (let next = stack.pop(); next; next = stack.pop()) {
    if (next.depth > max) return true;
    const children = Array.isArray(next.node) ? next.node : Object.values(next.node);
    for (const child of children)
      if (typeof child === "object" && child !== null) stack.push({ node: child, depth: next.depth + 1 });
  }
  return false;
}
