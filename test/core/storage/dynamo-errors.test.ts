import { describe, expect, it } from "vitest";
import { retryJudge } from "../../../core/storage/dynamo-errors.ts";

describe("retryJudge", () => {
  it.each<[string, string[][], boolean[]]>([
    [
      "retries conflicts, the loop's own bound stopping them",
      Array(8).fill(["TransactionConflict"]),
      Array(8).fill(true),
    ],
    [
      "gives throttling 5 tries, however many conflicts came between",
      [
        ["TransactionConflict"],
        ["ThrottlingError"],
        ["TransactionConflict"],
        ["ThrottlingError"],
        ["ThrottlingError"],
        ["ThrottlingError"],
        ["ThrottlingError"],
      ],
      [true, true, true, true, true, true, false],
    ],
    [
      "counts a try that names a conflict and a throttle as a throttled one",
      Array(5).fill(["TransactionConflict", "ProvisionedThroughputExceeded"]),
      [true, true, true, true, false],
    ],
    [
      "never retries a failed condition or anything else",
      [["ConditionalCheckFailed"], ["ValidationError"]],
      [false, false],
    ],
  ])("%s", (_, tries, retried) => {
    const retry = retryJudge();
    expect(tries.map((codes) => retry(codes))).toEqual(retried);
  });

  it("never retries an error that is no cancellation", () => {
    expect(retryJudge()(undefined)).toBe(false);
  });
});
