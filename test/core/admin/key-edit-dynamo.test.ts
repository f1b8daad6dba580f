import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { handleAdminEvent } from "../../../core/admin/dispatch.ts";
import { createDynamoKeyStore } from "../../../core/keys/dynamo-store.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { useDynamoDbLocal } from "../../contract/dynamo-harness.ts";
import { withTransactionCancellations } from "../../emulators/dynamodb-local.ts";
import { ADMIN, adminFixture } from "./fixture.ts";

const dynamo = useDynamoDbLocal("ScanCommand");

const patch = (id: string, body: unknown) =>
  ({
    httpMethod: "PATCH",
    resource: "/admin/{proxy+}",
    path: `/admin/keys/${id}`,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers: { Authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: "req-1" },
  }) as unknown as APIGatewayProxyEvent;

describe("a key PATCH on DynamoDB racing another writer", () => {
  it("is read again and merged, not refused with 409, when DynamoDB cancels it for another transaction on the key", async () => {
    const f = await adminFixture();
    const table = await dynamo.freshTable("review-keys");
    const plain = createDynamoKeyStore(dynamo.doc, table);
    await plain.create({ id: "adm", org: "acme", role: "admin", sha256: sha256Hex(ADMIN), createdAt: "t0" });
    await plain.create({ id: "app", org: "acme", role: "api", sha256: sha256Hex("app"), createdAt: "t0" });
    // Real DynamoDB cancels one of two transactions on one item with TransactionConflict: a second
    // admin's PATCH of the same key committing at the same moment.
    const keys = createDynamoKeyStore(
      withTransactionCancellations(dynamo.ddb.client(), ["TransactionConflict"]),
      table,
    );
    const res = await handleAdminEvent(patch("app", { budgets: [{ period: "day", limitUsd: 5 }] }), {
      ...f.deps,
      keys,
    });
    expect([res.statusCode, res.body]).toEqual([200, expect.stringContaining('"limitUsd":5')]);
    expect((await plain.get("app"))?.budgets).toEqual([
      { period: "day", limitUsd: 5, since: expect.any(String) },
    ]);
  }, 60_000);
});
