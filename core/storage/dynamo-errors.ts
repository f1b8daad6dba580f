import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";

/**
 * The per-item reason codes of a cancelled TransactWriteItems, in request order ("None" for items that
 * were fine), or undefined when `err` is any other error. Callers decide what each code means for them:
 * `ConditionalCheckFailed` is a lost condition (a conflict), `TransactionConflict` a concurrent write to
 * the same item (worth a retry); anything else (throttling, validation) is rethrown untouched.
 */
export function cancellationCodes(err: unknown): string[] | undefined {
  if (!(err instanceof TransactionCanceledException)) return undefined;
  return (err.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}
