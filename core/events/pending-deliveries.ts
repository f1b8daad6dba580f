/**
 * One subscription's events that wait for a retry, in memory; the outbox's `retrying` rows are the
 * durable copy, from which a restarted bus rebuilds it. Events are grouped by their order key: only a
 * group's first event is attempted (when its time comes), the others wait behind it in publication
 * order. An event without a key of its own is a group of one, so it holds back nothing.
 */
export interface PendingDeliveries {
  /** True when the event is already waiting here (a restart found its row past the cursor). */
  has(seq: number): boolean;
  /** True when an event of this key waits, so a later one must wait behind it. */
  blocks(key: string): boolean;
  /** Adds an event at the end of its key's group; `dueAt` matters only when it is the group's first. */
  add(key: string, seq: number, dueAt: number): void;
  /** The groups' first events whose time has come, oldest first. */
  due(now: number): Array<{ key: string; seq: number }>;
  /** Reschedules a group's first event after a failed retry. */
  retryAt(key: string, dueAt: number): void;
  /** Removes a group's first event (delivered or dead-lettered): the next one is due at once. */
  done(key: string): void;
  /** When the earliest group's first event is due; undefined when nothing waits. */
  nextDue(): number | undefined;
  readonly size: number;
}

export function pendingDeliveries(): PendingDeliveries {
  const groups = new Map<string, { seqs: number[]; dueAt: number }>();
  const waiting = new Set<number>();
  return {
    has: (seq) => waiting.has(seq),
    blocks: (key) => groups.has(key),
    add(key, seq, dueAt) {
      const group = groups.get(key);
      if (group) group.seqs.push(seq);
      else groups.set(key, { seqs: [seq], dueAt });
      waiting.add(seq);
    },
    due(now) {
      const out: Array<{ key: string; seq: number }> = [];
      for (const [key, g] of groups) if (g.dueAt <= now) out.push({ key, seq: g.seqs[0]! });
      return out.sort((a, b) => a.seq - b.seq);
    },
    retryAt(key, dueAt) {
      const group = groups.get(key);
      if (group) group.dueAt = dueAt;
    },
    done(key) {
      const group = groups.get(key);
      if (!group) return;
      waiting.delete(group.seqs.shift()!);
      if (group.seqs.length === 0) groups.delete(key);
      else group.dueAt = 0;
    },
    nextDue() {
      let next: number | undefined;
      for (const g of groups.values()) if (next === undefined || g.dueAt < next) next = g.dueAt;
      return next;
    },
    get size() {
      return waiting.size;
    },
  };
}
