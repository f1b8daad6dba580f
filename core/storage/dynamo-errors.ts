import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";

/**
 * The per-item reason codes of a cancelled TransactWriteItems, in request order ("None" for items that
 * were fine), or undefined when `err` is any other error. Callers decide what each code means for them:
 * `ConditionalCheckFailed` is a lost condition (a conflict), `TransactionConflict` a concurrent write to
 * the same item (worth a retry, see retryJudge); anything else (validation, say) is rethrown untouched.
 */
export function cancellationCodes(err: unknown): string[] | undefined {
  if (!(err instanceof TransactionCanceledException)) return undefined;
  return (err.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}

/**
 * Reasons a cancelled transaction (which wrote nothing) may pass when tried again, from the
 * TransactWriteItems reference's cancellation reasons: another transaction held an item
 * (`TransactionConflict`), or the table or an index throttled (`ThrottlingError`,
 * `ProvisionedThroughputExceeded`: an on-demand table whose traffic doubles past its previous peak
 * throttles until it has scaled). The SDK retries none of them: the cancellation is one 400 error.
 */
const THROTTLED = new Set(["ThrottlingError", "ProvisionedThroughputExceeded"]);
/**
 * Tries a throttled transaction gets (the first included): a table scales within seconds, and a caller
 * (a request waiting on its reservation) should not wait out a long throttle only to fail anyway, nor
 * add to the load of a throttled table. Conflicts pass as soon as the other writer is done, and keep
 * each loop's own bound.
 */
const THROTTLED_TRIES = 5;

/**
 * A loop's judge of cancellations (their `cancellationCodes`): whether one is worth another try after a
 * backoff. Conflicts always are (the loop's own bound stops them); throttling is for THROTTLED_TRIES
 * throttled tries of this loop, however many conflicts came between them.
 */
export function retryJudge(): (codes: readonly string[] | undefined) => boolean {
  let throttled = 0;
  return (codes) => {
    if (codes === undefined) return false;
    // Throttling first: a cancellation that names a conflict too is still a throttled try.
    if (codes.some((c) => THROTTLED.has(c))) {
      throttled++;
      return throttled < THROTTLED_TRIES;
    }
    return codes.includes("TransactionConflict");
  };
}
