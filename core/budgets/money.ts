/**
 * Stored amounts are integer nano-dollars (USD × 1e9), the unit every cost is priced to (pricing.ts
 * `roundUsd`). Integers, so that millions of small ADDs never drift; nano-dollars, so that the cheapest
 * request still counts: 10 embedding tokens at $0.02 per 1M cost $0.0000002, which micro-dollars rounded
 * to 0 and let a budgeted org spend without its counter moving.
 *
 * A reservation rounds up (never under-reserve) and a limit down (never over-allow), after a detour
 * through pico-dollars that drops binary noise first (0.07 × 1e9 = 70000000.00000001 must not become
 * 70000001). A double holds every integer up to 2^53 exactly: $9 007 199 of nano-dollars in one counter.
 */
export const nanos = (usd: number): number => Math.round(usd * 1e9);
export const reserveNanos = (usd: number): number => Math.ceil(Math.round(usd * 1e12) / 1e3);
/**
 * A limit in nano-dollars, rounded down. From the number's own decimal text where it has one, exactly:
 * past $9 007 the detour through pico-dollars passes 2^53 and could land a nano-dollar off ($16 410.62
 * would come back as $16 410.619999999), which made a limit rounded twice another limit.
 */
export const limitNanos = (usd: number): number => {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(usd));
  if (!m) return Math.floor(Math.round(usd * 1e12) / 1e3);
  return Number(m[1]) * 1e9 + Number((m[2] ?? "").slice(0, 9).padEnd(9, "0"));
};
export const usdOf = (n: number): number => n / 1e9;

/**
 * Nano-dollars as exact decimal dollars, for a DynamoDB number: a double holds every nano-dollar only
 * up to $8 388 608 (2^23), and past it `usdOf` would write (or compare against) a neighbour.
 */
export function usdDecimal(n: number): string {
  const abs = Math.abs(n);
  const fraction = abs % 1e9;
  // (abs - fraction) is a multiple of 1e9: the division is exact, where abs / 1e9 could round up.
  const whole = (abs - fraction) / 1e9;
  const digits = fraction === 0 ? "" : `.${String(fraction).padStart(9, "0").replace(/0+$/, "")}`;
  return `${n < 0 ? "-" : ""}${whole}${digits}`;
}

/** A DynamoDB number's decimal text in nano-dollars, exactly (digits past the ninth decimal rounded). */
export function decimalNanos(text: string): number {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  // DynamoDB sends plain decimals; anything else (an exponent) goes through a double.
  if (!m) return nanos(Number(text));
  const fraction = (m[3] ?? "").padEnd(10, "0");
  const n = Number(m[2]) * 1e9 + Number(fraction.slice(0, 9)) + (Number(fraction[9]) >= 5 ? 1 : 0);
  return m[1] ? -n : n;
}

/** An amount recorded before nano-dollars (`amountMicros`), or after (`amountNanos`), in nano-dollars. */
export const storedNanos = (r: { amountNanos?: number; amountMicros?: number }): number =>
  r.amountNanos ?? (r.amountMicros ?? 0) * 1e3;

/**
 * A limit as people write it and as it is enforced (limitNanos: rounded down to the nano-dollar): whole
 * cents with two decimals ($5.00), anything finer with as many decimals as it has ($0.002, which two
 * decimals would show as $0.00).
 */
export const usdText = (usd: number): string => {
  const n = limitNanos(usd);
  return n % 10_000_000 === 0 ? usdOf(n).toFixed(2) : exactText(n);
};

/** Nano-dollars with as many decimals as they have. */
const exactText = (n: number): string => usdOf(n).toFixed(9).replace(/0+$/, "");

/**
 * An amount spent or at stake, in a message: at least four decimals ($0.0320), and as many more as it
 * has, to the nano-dollar ($0.01135, $0.000000225), never rounded: a refusal must not say a request "may
 * cost up to $0.0000", nor that $0.01135 spent against a limit of $0.01135 is $0.0114. Nothing is $0.00,
 * as a round limit is written.
 */
export const usdAmountText = (usd: number): string => {
  if (usd === 0) return "0.00";
  const [whole, fraction = ""] = exactText(nanos(usd)).split(".");
  return `${whole}.${fraction.padEnd(4, "0")}`;
};

/**
 * A request's cost split by who billed it, in nano-dollars: each attempt that failed after its provider
 * answered (its own provider and model billed it), and the rest, the target that served the request.
 */
export function costByBiller(
  costUsd: number,
  attempts: ReadonlyArray<{ provider: string; model: string; answered?: boolean; costUsd?: number }>,
): { billed: Array<{ provider: string; model: string; nanos: number }>; servedNanos: number } {
  const billed = attempts
    .filter((a) => a.answered && a.costUsd)
    .map((a) => ({ provider: a.provider, model: a.model, nanos: nanos(a.costUsd ?? 0) }));
  const servedNanos = nanos(costUsd) - billed.reduce((sum, b) => sum + b.nanos, 0);
  return { billed, servedNanos: Math.max(0, servedNanos) };
}
