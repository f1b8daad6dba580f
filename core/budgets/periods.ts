const DAY_MS = 86_400_000;

/**
 * The last day asked for, so the common case (every request of a day) skips Date formatting, which costs
 * microseconds per call on the request path. UTC days are exactly DAY_MS long (no leap seconds in epoch ms).
 */
let memo = { start: Number.NaN, day: "", month: "" };

function keysOf(now: number): { day: string; month: string } {
  if (now >= memo.start && now < memo.start + DAY_MS) return memo;
  const iso = new Date(now).toISOString();
  memo = { start: Math.floor(now / DAY_MS) * DAY_MS, day: iso.slice(0, 10), month: iso.slice(0, 7) };
  return memo;
}

/** UTC period keys: budgets and rollups roll over at midnight UTC, the same in every region. */
export const dayKey = (now: number): string => keysOf(now).day;
export const monthKey = (now: number): string => keysOf(now).month;
export const periodKey = (period: "day" | "month", now: number): string =>
  period === "day" ? dayKey(now) : monthKey(now);
