/**
 * Caps how many records of one kind reach the chain per minute (authentication failures: a credential
 * stuffing run must not flood the audit trail or its queue). The first record after a suppressed
 * stretch carries how many were dropped, so the chain still shows the volume.
 */
export interface Sampler {
  take(): { allowed: boolean; suppressed: number };
}

export function createSampler(perMinute: number, now: () => number = Date.now): Sampler {
  let windowStart = 0;
  let taken = 0;
  let suppressed = 0;
  return {
    take() {
      const t = now();
      if (t - windowStart >= 60_000) {
        windowStart = t - (t % 60_000);
        taken = 0;
      }
      if (taken >= perMinute) {
        suppressed++;
        return { allowed: false, suppressed: 0 };
      }
      taken++;
      const out = { allowed: true, suppressed };
      suppressed = 0;
      return out;
    },
  };
}
