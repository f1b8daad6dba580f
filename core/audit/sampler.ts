/**
 * Caps how many records of one kind reach the chain in any minute (authentication failures: a credential
 * stuffing run must not flood the audit trail or its queue). The first record after a suppressed
 * stretch carries how many were dropped, so the chain still shows the volume.
 */
export interface Sampler {
  take(): { allowed: boolean; suppressed: number };
}

const WINDOW_MS = 60_000;

/**
 * A sliding window, not calendar minutes: a burst across a minute's boundary would otherwise pass twice
 * the cap. The times of the last `perMinute` records allowed are kept in a ring; another is allowed once
 * the oldest of them is a minute old.
 */
export function createSampler(perMinute: number, now: () => number = Date.now): Sampler {
  const allowedAt: number[] = [];
  let next = 0;
  let suppressed = 0;
  return {
    take() {
      const t = now();
      if (allowedAt.length >= perMinute && t - allowedAt[next]! < WINDOW_MS) {
        suppressed++;
        return { allowed: false, suppressed: 0 };
      }
      if (allowedAt.length < perMinute) allowedAt.push(t);
      else allowedAt[next] = t;
      next = (next + 1) % perMinute;
      const out = { allowed: true, suppressed };
      suppressed = 0;
      return out;
    },
  };
}
