import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { AuditEnqueueError } from "../../../core/audit/fifo-message.ts";
import { createSqsAuditQueue } from "../../../core/audit/sqs-queue.ts";
import { record } from "./fixtures.ts";

describe("the SQS audit queue's retries", () => {
  it("stop once another attempt would start past the deadline, and name the records", async () => {
    let calls = 0;
    // An SQS endpoint that fails every call after 30 ms.
    const down = {
      send: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" });
      },
    } as unknown as SQSClient;
    const queue = createSqsAuditQueue(down, "https://sqs.local/q.fifo", {
      maxAttempts: 50,
      baseDelayMs: 1,
      maxDelayMs: 1,
      deadlineMs: 200,
    });
    const started = Date.now();
    const err = await queue.enqueue([record(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditEnqueueError);
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(400);
  });
});
