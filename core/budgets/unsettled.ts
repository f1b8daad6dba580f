import { storedNanos, usdOf } from "./money.ts";
import type { ReservedFor, UnsettledReservation } from "./port.ts";

/**
 * An unsettled reservation read back from a store (SQLite row or DynamoDB item), or undefined when what
 * was read does not hold what a reservation writes: written by hand, damaged, or from a version before
 * reservations said whose request they are. `counters` is the reservation's list of what it reserved on
 * each counter; every one holds the same amount, the request's worst case (spend-guard.ts).
 */
export function unsettledOf(
  id: string,
  counters: unknown,
  reservedFor: unknown,
): UnsettledReservation | undefined {
  const first: unknown = Array.isArray(counters) ? counters[0] : undefined;
  if (typeof first !== "object" || first === null) return undefined;
  const amount = storedNanos(first as { amountNanos?: number; amountMicros?: number });
  const owner = reservedFor as Partial<ReservedFor> | null | undefined;
  if (
    !Number.isFinite(amount) ||
    typeof owner !== "object" ||
    owner === null ||
    typeof owner.requestId !== "string" ||
    typeof owner.org !== "string" ||
    typeof owner.keyId !== "string" ||
    !Number.isFinite(owner.startedAt)
  )
    return undefined;
  return { id, amountUsd: usdOf(amount), reservedFor: owner as ReservedFor };
}
