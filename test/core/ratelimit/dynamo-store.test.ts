import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, type DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it, vi } from "vitest";
import { toGatewayError } from "../../../core/api/errors.ts";
import { createDynamoRateLimitStore } from "../../../core/ratelimit/dynamo-store.ts";

/** What DynamoDB answers a transaction it cancelled, for every item with `code`. */
const cancelled = (code: string) =>
  new TransactionCanceledException({
    message: "Transaction cancelled",
    $metadata: {},
    CancellationReasons: [{ Code: code }],
  });

/** A client whose transactions commit and whose reads fail: DynamoDB dropping between the two calls. */
function readsFail() {
  const sent: string[] = [];
  const doc = {
    send: async (command: unknown) => {
      if (command instanceof TransactWriteCommand) return sent.push("take") && {};
      if (command instanceof BatchGetCommand) throw new Error("connect ECONNREFUSED");
      throw new Error("unexpected command");
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
}

describe("the DynamoDB rate-limit store when its read-back fails", () => {
  it("admits a request whose take committed, its headers counting that take alone", async () => {
    const { doc, sent } = readsFail();
    const store = createDynamoRateLimitStore(doc, "t");
    const now = Date.UTC(2026, 10, 26, 12, 0, 30);
    const decision = await store.consume([{ name: "key:k1:requests", limit: 3, amount: 1 }], now);
    expect(sent).toEqual(["take"]);
    expect(decision).toEqual({
      ok: true,
      remaining: { "key:k1:requests": 2 },
      refusedBy: undefined,
      resetAt: Date.UTC(2026, 10, 26, 12, 1),
    });
  });

  it("refuses a request its transaction refused, with a 429's headers, though the counts cannot be read", async () => {
    const doc = {
      send: async (command: unknown) => {
        if (command instanceof TransactWriteCommand) throw cancelled("ConditionalCheckFailed");
        if (command instanceof BatchGetCommand) throw new Error("connect ECONNREFUSED");
        throw new Error("unexpected command");
      },
    } as unknown as DynamoDBDocumentClient;
    const now = Date.UTC(2026, 10, 26, 12, 0, 30);
    const decision = await createDynamoRateLimitStore(doc, "t").consume(
      [{ name: "key:k1:requests", limit: 3, amount: 1 }],
      now,
    );
    expect(decision).toEqual({
      ok: false,
      remaining: { "key:k1:requests": 0 },
      refusedBy: "key:k1:requests",
      resetAt: Date.UTC(2026, 10, 26, 12, 1),
    });
  });
});

describe("the DynamoDB rate-limit store when DynamoDB keeps throttling its read-back", () => {
  afterEach(() => vi.useRealTimers());

  it("gives the read up after a bounded number of rounds and admits the request", async () => {
    vi.useFakeTimers();
    let reads = 0;
    const doc = {
      send: async (command: unknown) => {
        if (command instanceof TransactWriteCommand) return {};
        if (command instanceof BatchGetCommand) {
          reads++;
          return {
            Responses: { t: [] },
            UnprocessedKeys: { t: { Keys: command.input.RequestItems?.t?.Keys } },
          };
        }
        throw new Error("unexpected command");
      },
    } as unknown as DynamoDBDocumentClient;
    const decided = createDynamoRateLimitStore(doc, "t").consume(
      [{ name: "key:k1:requests", limit: 3, amount: 1 }],
      0,
    );
    await vi.advanceTimersByTimeAsync(120_000);
    expect(await decided).toMatchObject({ ok: true, remaining: { "key:k1:requests": 2 } });
    expect(reads).toBe(3);
  });

  it("answers 503 (retry shortly) when the buckets keep conflicting, not 500", async () => {
    vi.useFakeTimers();
    const doc = {
      send: async (command: unknown) => {
        if (command instanceof TransactWriteCommand) throw cancelled("TransactionConflict");
        throw new Error("unexpected command");
      },
    } as unknown as DynamoDBDocumentClient;
    const decided = createDynamoRateLimitStore(doc, "t")
      .consume([{ name: "key:k1:requests", limit: 3, amount: 1 }], 0)
      .catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(toGatewayError(await decided)).toMatchObject({ status: 503, code: "store_busy" });
  });
});
