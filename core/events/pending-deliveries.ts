/**
 * One subscription's events that wait for a retry, in memory; the outbox's `retrying` rows are the
 * durable copy, from which a restarted bus rebuilds it. Events are grouped by their order key and kept
 * in publication order within it: only a group's first event is attempted (when its time comes), the
 * others wait behind it. An event without a key of its own is a group of one, so it holds back nothing.
 */
export interface PendingDeliveries {
  /** True when the event is already waiting here (a restart found its row past the cursor). */
  has(seq: number): boolean;
  /** True when an event of this key waits, so a later one must wait behind it. */
  blocks(key: string): boolean;
  /**
   * Adds an event to its key's group at its place in publication order (after a crash, an earlier event
   * met again goes ahead of a later one that was waiting); `dueAt` is when it may be attempted.
   */
  add(key: string, seq: number, dueAt: number): void;
  /** The groups' first events whose time has come, oldest first. */
  due(now: number): Array<{ key: string; seq: number }>;
  /** Reschedules a group's first event after a failed retry. */
  retryAt(key: string, dueAt: number): void;
  /** Removes a group's first event (delivered or dead-lettered): the next one is due at its own time. */
  done(key: string): void;
  /** When the earliest group's first event is due; undefined when nothing waits. */
  nextDue(): number | undefined;
  readonly size: number;
}

interface Waiting {
  seq: number;
  dueAt: number;
}

export function pendingDeliveries(): PendingDeliveries {
  const groups = new Map<string, Waiting[]>();
  const waiting = new Set<number>();
  return {
    has: (seq) => waiting.has(seq),
    blocks: (key) => groups.has(key),
    add(key, seq, dueAt) {
      const group = groups.get(key) ?? [];
      const at = group.findIndex((w) => w.seq > seq);
      group.splice(at === -1 ? group.length : at, 0, { seq, dueAt });
      groups.set(key, group);
      waiting.add(seq);
    },
    due(now) {
      const out: Array<{ key: string; seq: number }> = [];
      for (const [key, [first]] of groups) if (first && first.dueAt <= now) out.push({ key, seq: first.seq });
      return out.sort((a, b) => a.seq - b.seq);
    },
    retryAt(key, dueAt) {
      const first = groups.get(key)?.[0];
      if (first) first.dueAt = dueAt;
    },
    done(key) {
      const group = groups.get(key);
      if (!group) return;
      waiting.delete(group.shift()!.seq);
      if (group.length === 0) groups.delete(key);
    },
    nextDue() {
      let next: number | undefined;
      for (const [first] of groups.values())
        if (first && (next === undefined || first.dueAt < next)) next = first.dueAt;
      return next;
    },
    get size() {
      return waiting.size;
    },
  };
}
