import { randomFillSync } from "node:crypto";

/**
 * Request ids for portable mode: UUIDv7 (RFC 9562 §5.7), a 48-bit Unix-millisecond timestamp followed by
 * a 12-bit sequence and 62 random bits. Every SQLite table keyed by request id (the event outbox, budget
 * reservations, the aggregator's processed ids) then appends to the right edge of its B-tree instead of
 * dirtying a random leaf page per request: a commit writes a few WAL frames rather than one per index.
 * Ids from one generator are strictly increasing; within a millisecond the sequence counts up (method 1
 * of §6.2), and its overflow borrows the next millisecond rather than repeating.
 */
export function uuidV7(ms: number, seq: number, random: Uint8Array): string {
  const b = new Uint8Array(16);
  for (let i = 5, t = ms; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b.set(random.subarray(0, 8), 8);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const hex = Buffer.from(b).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Random bytes are drawn this many ids at a time: one CSPRNG call per id costs more than the id. */
const POOL_IDS = 256;

/** A generator of strictly increasing UUIDv7 ids; `now` is injectable for tests. */
export function createRequestIds(now: () => number = Date.now): () => string {
  let lastMs = -1;
  let seq = 0;
  const pool = new Uint8Array(8 * POOL_IDS);
  let used = POOL_IDS;
  return () => {
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      seq = 0;
    } else if (++seq > 0xfff) {
      lastMs += 1;
      seq = 0;
    }
    if (used === POOL_IDS) {
      randomFillSync(pool);
      used = 0;
    }
    const random = pool.subarray(8 * used, 8 * ++used);
    return uuidV7(lastMs, seq, random);
  };
}

/**
 * The process's request ids: every response the portable host answers carries one from this generator,
 * whichever path answered it (the handlers, `/metrics`, a request Node's parser refused).
 */
export const nextRequestId = createRequestIds();

/**
 * The smallest id `createRequestIds` can make at `ms` or later, as a prefix: every id made earlier sorts
 * before it, every id made then or later sorts after it. Tables keyed by request id prune by it.
 */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}
