import { describe, expect, it } from "vitest";
import { handler as auditWriter } from "../../functions/audit-writer.ts";
import { handler as costAggregator, NOT_YET } from "../../functions/cost-aggregator.ts";

const usageEvent = {
  id: "e1",
  source: "llm-gateway",
  "detail-type": "llm.usage",
  detail: { requestId: "r" },
};
const sqsRecord = (id: string) => ({
  messageId: id,
  body: "{}",
  attributes: { MessageGroupId: "org-a", MessageDeduplicationId: `d-${id}` },
});

describe("functions whose capabilities arrive later", () => {
  it("the cost aggregator refuses a malformed event naming the bad field", async () => {
    await expect(costAggregator({ ...usageEvent, source: "someone-else" })).rejects.toThrow(/source/);
  });

  it("the cost aggregator fails clearly on a valid event instead of pretending to count it", async () => {
    await expect(costAggregator(usageEvent)).rejects.toThrow(NOT_YET);
  });

  it("the audit writer refuses a malformed SQS event", async () => {
    await expect(auditWriter({ Records: [{ body: "{}" }] })).rejects.toThrow(/Records\[0\]\.messageId/);
  });

  it("the audit writer returns every record to the queue, so none is acknowledged unwritten", async () => {
    const res = await auditWriter({ Records: [sqsRecord("m1"), sqsRecord("m2")] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: "m1" }, { itemIdentifier: "m2" }]);
  });
});
