/** UTC period keys: budgets and rollups roll over at midnight UTC, the same in every region. */
export const dayKey = (now: number): string => new Date(now).toISOString().slice(0, 10);
export const monthKey = (now: number): string => new Date(now).toISOString().slice(0, 7);
export const periodKey = (period: "day" | "month", now: number): string =>
  period === "day" ? dayKey(now) : monthKey(now);
