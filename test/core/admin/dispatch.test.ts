import type { APIGatewayProxyEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { handleAdminEvent } from "../../../core/admin/dispatch.ts";
import type { KeyStore } from "../../../core/keys/port.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

let keys: KeyStore;
beforeAll(async () => {
  keys = createSqliteKeyStore(openDatabase(":memory:"));
  await keys.create({
    id: "adm",
    org: "o",
    role: "admin",
    sha256: sha256Hex("admin-secret"),
    createdAt: "t",
  });
  await keys.create({ id: "api", org: "o", role: "api", sha256: sha256Hex("api-secret"), createdAt: "t" });
});

const event = (auth?: string) =>
  ({
    httpMethod: "GET",
    path: "/admin/providers",
    headers: auth ? { Authorization: `Bearer ${auth}` } : {},
    requestContext: { requestId: "r1" },
  }) as unknown as APIGatewayProxyEvent;

describe("the admin API before issue #4", () => {
  it.each([
    ["no key", undefined, 401, "invalid_api_key"],
    ["an API key", "api-secret", 403, "admin_key_required"],
    ["an admin key", "admin-secret", 501, "not_implemented"],
  ])("answers %s with %d in the OpenAI envelope", async (_n, auth, status, code) => {
    const res = await handleAdminEvent(event(auth), { keys, newId: () => "x" });
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body).error.code).toBe(code);
    expect(res.headers["x-request-id"]).toBe("r1");
  });
});
