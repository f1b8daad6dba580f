import { describe, expect, it } from "vitest";
import { GatewayError, toGatewayError } from "../../../core/api/errors.ts";
import { StoreBusyError } from "../../../core/storage/errors.ts";

describe("toGatewayError", () => {
  it.each([
    [
      "a GatewayError, as it is",
      new GatewayError(429, "rate_limit_error", "slow down"),
      429,
      null,
      undefined,
    ],
    [
      "a store busy with another writer, as 503 to retry in a second",
      new StoreBusyError("locked"),
      503,
      "store_busy",
      "1",
    ],
    [
      "DynamoDB throttling past the SDK's retries, as 503",
      Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
        name: "ProvisionedThroughputExceededException",
      }),
      503,
      "store_busy",
      "1",
    ],
    [
      "a transaction DynamoDB cancelled for throttling past the gateway's tries, as 503",
      Object.assign(new Error("Transaction cancelled"), {
        name: "TransactionCanceledException",
        CancellationReasons: [{ Code: "None" }, { Code: "ThrottlingError" }],
      }),
      503,
      "store_busy",
      "1",
    ],
    [
      "a transaction cancelled for a failed condition, as 500 (a caller's own handling missed it)",
      Object.assign(new Error("Transaction cancelled"), {
        name: "TransactionCanceledException",
        CancellationReasons: [{ Code: "ConditionalCheckFailed" }],
      }),
      500,
      "internal_error",
      undefined,
    ],
    [
      "an AWS service answering 5xx past the SDK's retries, as 503",
      Object.assign(new Error("boom"), { name: "InternalServerError", $fault: "server", $metadata: {} }),
      503,
      "store_unavailable",
      "1",
    ],
    [
      "an AWS endpoint refusing connections past the SDK's retries, as 503",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", $metadata: { attempts: 4 } }),
      503,
      "store_unavailable",
      "1",
    ],
    [
      "an AWS endpoint silent past the client's timeouts, as 503",
      Object.assign(new Error("timed out"), { name: "TimeoutError", $metadata: {} }),
      503,
      "store_unavailable",
      "1",
    ],
    [
      "a refused connection that is no AWS SDK call, as 500",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      500,
      "internal_error",
      undefined,
    ],
    [
      "an AWS client error (validation), as 500",
      Object.assign(new Error("bad"), { name: "ValidationException", $fault: "client", $metadata: {} }),
      500,
      "internal_error",
      undefined,
    ],
    ["anything else, as 500", new TypeError("boom"), 500, "internal_error", undefined],
  ])("answers %s", (_, err, status, code, retryAfter) => {
    const e = toGatewayError(err);
    expect([e.status, e.code, e.headers?.["retry-after"]]).toEqual([status, code, retryAfter]);
  });
});
