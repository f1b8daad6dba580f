import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { LogFields } from "../../core/log.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { createAdminHandler } from "../../functions/admin-handler.ts";
import { ADMIN, adminFixture } from "../core/admin/fixture.ts";

/** One admin call through the handler, with the redacting log the hosts wrap around theirs. */
async function loggedPathOf(path: string): Promise<unknown> {
  const f = await adminFixture();
  const lines: Array<{ message: string; fields?: LogFields }> = [];
  const capture = (message: string, fields?: LogFields) => lines.push({ message, fields });
  const log = redactingLog({ info: capture, warn: capture, error: capture });
  const handler = createAdminHandler({ ...f.deps, log });
  const event = {
    httpMethod: "GET",
    resource: "/admin/{proxy+}",
    path,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers: { Authorization: `Bearer ${ADMIN}` },
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: "req-1" },
  } as unknown as APIGatewayProxyEvent;
  await handler(event, {} as Context);
  return lines.find((l) => l.message === "admin request")?.fields?.path;
}

describe("the admin handler's request log line", () => {
  it.each([
    ["a card number", "/admin/orgs/4111%201111%201111%201111", "4111"],
    ["a phone number", "/admin/orgs/%2B44%2020%207946%200958", "7946"],
    ["an e-mail address", "/admin/keys/jane%2Edoe%40example%2Ecom", "jane"],
  ])("masks %s that percent-encoding hid in the path", async (_, path, raw) => {
    const logged = String(await loggedPathOf(path));
    expect(logged).not.toContain(raw);
    expect(logged).toMatch(/^\/admin\/(orgs|keys)\/\[[A-Z]+\]$/);
  });

  it("logs a path whose encoding is malformed as it came", async () => {
    expect(await loggedPathOf("/admin/orgs/a%zz")).toBe("/admin/orgs/a%zz");
  });
});
