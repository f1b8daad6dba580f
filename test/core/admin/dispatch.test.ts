import { beforeEach, describe, expect, it } from "vitest";
import { type AdminFixture, API, adminFixture, errorOf } from "./fixture.ts";

let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
});

describe("admin API: authentication, routing and request errors", () => {
  it.each<[string, string, string, unknown, string | null | undefined, number, string]>([
    ["no key", "GET", "/admin/providers", undefined, null, 401, "invalid_api_key"],
    ["a wrong key", "GET", "/admin/providers", undefined, "sk-gw-nope", 401, "invalid_api_key"],
    ["an API key", "GET", "/admin/providers", undefined, API, 403, "admin_key_required"],
    ["an API key, even on an unknown route", "GET", "/admin/nope", undefined, API, 403, "admin_key_required"],
    ["an unknown resource", "GET", "/admin/widgets", undefined, undefined, 404, "unknown_url"],
    ["the bare prefix", "GET", "/admin", undefined, undefined, 404, "unknown_url"],
    ["a path too deep", "GET", "/admin/providers/mock/extra", undefined, undefined, 404, "unknown_url"],
    ["an inherited property name", "GET", "/admin/constructor", undefined, undefined, 404, "unknown_url"],
    ["PUT on a collection", "PUT", "/admin/providers", {}, undefined, 405, "method_not_allowed"],
    ["POST on an item", "POST", "/admin/orgs/acme", {}, undefined, 405, "method_not_allowed"],
    ["POST on a key", "POST", "/admin/keys/app", {}, undefined, 405, "method_not_allowed"],
    ["malformed JSON", "POST", "/admin/orgs", "{nope", undefined, 400, "invalid_json"],
    ["an empty body", "POST", "/admin/orgs", undefined, undefined, 400, "invalid_json"],
    ["a JSON array", "POST", "/admin/orgs", [], undefined, 400, "invalid_request_body"],
    [
      "a header named __proto__, which parsing would drop",
      "POST",
      "/admin/providers",
      '{"id":"px","kind":"openai","headers":{"__proto__":"v","x-kept":"yes"}}',
      undefined,
      400,
      "invalid_request_body",
    ],
    ["bad percent-encoding", "GET", "/admin/orgs/%E0%A4%A", undefined, undefined, 400, "invalid_path"],
  ])("answers %s in the OpenAI envelope", async (_n, method, path, body, key, status, code) => {
    const res = await f.call(method, path, body, key);
    expect(res.status).toBe(status);
    expect(errorOf(res.json).code).toBe(code);
    expect(res.headers["x-request-id"]).toBe("req-1");
    expect(res.headers["content-type"]).toBe("application/json");
  });

  it("says which methods a route allows", async () => {
    const res = await f.call("PATCH", "/admin/models/smart");
    expect([res.status, res.headers.allow]).toEqual([405, "GET, PUT, DELETE"]);
  });

  it("refuses bodies past 1 MiB with 413", async () => {
    const res = await f.call("POST", "/admin/orgs", { id: "big", name: "x".repeat(1024 * 1024) });
    expect([res.status, errorOf(res.json).code]).toEqual([413, "request_too_large"]);
  });

  it("routes a request that came through a custom domain's base path", async () => {
    const res = await f.call("GET", "/admin/orgs/acme", undefined, undefined, "/llm");
    expect([res.status, (res.json as { id: string }).id]).toEqual([200, "acme"]);
  });

  it("accepts a trailing slash and percent-encoded ids", async () => {
    expect((await f.call("GET", "/admin/orgs/")).status).toBe(200);
    await f.call("POST", "/admin/models", {
      alias: "team:chat",
      targets: [{ provider: "mock", model: "m" }],
    });
    const res = await f.call("GET", "/admin/models/team%3Achat");
    expect([res.status, (res.json as { alias: string }).alias]).toEqual([200, "team:chat"]);
  });

  it("answers a store failure with 500 internal_error and logs it without details", async () => {
    f.deps.registry.list = () => Promise.reject(new Error("disk on fire: /secret/path"));
    const res = await f.call("GET", "/admin/models");
    expect([res.status, errorOf(res.json).code]).toEqual([500, "internal_error"]);
    expect(res.text).not.toContain("disk on fire");
    expect(f.logs.find((l) => l.message === "admin request failed")?.fields).toMatchObject({
      requestId: "req-1",
      error: "Error",
    });
  });
});
