import { BatchGetCommand, type DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createDynamoRateLimitStore } from "../../../core/ratelimit/dynamo-store.ts";

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
});
