import { describe, expect, it } from "vitest";
import { nextEntry } from "../../core/audit/chain.ts";
import { createDynamoAuditStore } from "../../core/audit/dynamo-store.ts";
import { auditRec, auditRecs } from "./audit-fixtures.ts";
import { auditStoreContract } from "./audit-store.contract.ts";
import { useDynamoDbLocal } from "./dynamo-harness.ts";

const dynamo = useDynamoDbLocal("QueryCommand");

auditStoreContract("DynamoDB Local", ...dynamo.factories("audit", createDynamoAuditStore));

describe("DynamoDB audit store specifics", () => {
  it("pages the Query of a chain past 1 MB", async () => {
    const store = createDynamoAuditStore(dynamo.doc, await dynamo.freshTable("audit"));
    // 30 entries of ~40 KB: 1.2 MB in few appends (the contract checks 130 entries for the 100-item side).
    const bulk = "x".repeat(40_000);
    let head = await store.head("big");
    for (const r of auditRecs("big", 30).map((r) => ({ ...r, data: { ...r.data, bulk } }))) {
      head = nextEntry(head, r);
      await store.append(head);
    }
    dynamo.calls = 0;
    expect(await store.entries("big", 1, 30)).toHaveLength(30);
    expect(dynamo.calls).toBeGreaterThan(1);
  }, 60_000);

  it("finds an event only in its own chain, even when ids hold '#'", async () => {
    const store = createDynamoAuditStore(dynamo.doc, await dynamo.freshTable("audit"));
    // EVENT#a#b#c is the key of both (chain "a#b", event "c") and (chain "a", event "b#c").
    const r = { ...auditRec("a#b", 1), eventId: "c" };
    await store.append(nextEntry(undefined, r));
    expect((await store.findByEventId("a#b", "c"))?.record).toEqual(r);
    expect(await store.findByEventId("a", "b#c")).toBeUndefined();
    expect(await store.chains()).toEqual(["a#b"]);
  });
});
