import { beforeEach, describe, expect, it } from "vitest";
import { type AdminFixture, adminFixture, errorOf, SEED, storedState } from "./fixture.ts";

let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
});

const newProvider = { id: "an", kind: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY", region: "eu" };
const newModel = { alias: "fast", targets: [{ provider: "mock", model: "echo" }] };

describe("admin API: providers, models and orgs", () => {
  it.each([
    ["providers", SEED.providers, "mock", "oa"],
    ["models", SEED.models, "default", "smart"],
    ["orgs", SEED.orgs, "acme", "empty"],
  ])("lists %s as an OpenAI list of the stored documents", async (resource, docs, first, last) => {
    const res = await f.call("GET", `/admin/${resource}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ object: "list", data: docs, first_id: first, last_id: last, has_more: false });
  });

  it("refuses an org name longer than 256 characters, which every page listing it would carry", async () => {
    const res = await f.call("POST", "/admin/orgs", { id: "long", name: "n".repeat(257) });
    expect(res.status).toBe(400);
    expect(errorOf(res.json)).toMatchObject({ param: "name" });
    expect((await f.call("POST", "/admin/orgs", { id: "long", name: "n".repeat(256) })).status).toBe(201);
  });

  it("keeps an org's budget limit as it is enforced, rounded down to the nano-dollar", async () => {
    const org = { id: "nano", budgets: [{ period: "day", limitUsd: 0.0500000009 }] };
    expect((await f.call("POST", "/admin/orgs", org)).status).toBe(201);
    const read = await f.call("GET", "/admin/orgs/nano");
    expect((read.json as { budgets: Array<{ limitUsd: number }> }).budgets[0]?.limitUsd).toBe(0.05);
  });

  it("pages a list in id order with limit and after", async () => {
    for (const id of ["o3", "o1", "o2"])
      expect((await f.call("POST", "/admin/orgs", { id })).status).toBe(201);
    const ids = (json: unknown) => (json as { data: Array<{ id: string }> }).data.map((o) => o.id);
    const first = await f.call("GET", "/admin/orgs?limit=2");
    expect(ids(first.json)).toEqual(["acme", "empty"]);
    expect(first.json).toMatchObject({ first_id: "acme", last_id: "empty", has_more: true });
    const second = await f.call("GET", "/admin/orgs?limit=2&after=empty");
    expect(ids(second.json)).toEqual(["o1", "o2"]);
    expect(second.json).toMatchObject({ has_more: true });
    const last = await f.call("GET", "/admin/orgs?limit=2&after=o2");
    expect(ids(last.json)).toEqual(["o3"]);
    expect(last.json).toMatchObject({ last_id: "o3", has_more: false });
    const past = await f.call("GET", "/admin/orgs?after=o3");
    expect(past.json).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });

  it.each([
    ["a zero limit", "limit=0", "limit"],
    ["a limit over 1000", "limit=1001", "limit"],
    ["a limit that is not a number", "limit=ten", "limit"],
    ["an empty after", "after=", "after"],
    ["an unknown parameter", "page=2", "page"],
  ])("refuses a list query with %s: 400 naming the parameter", async (_, query, param) => {
    const res = await f.call("GET", `/admin/providers?${query}`);
    expect(res.status).toBe(400);
    expect(errorOf(res.json)).toMatchObject({ code: "invalid_request_body", ...(param ? { param } : {}) });
  });

  it.each([
    ["providers", newProvider, { ...newProvider, models: [] }, "id", "an"],
    ["models", newModel, { ...newModel, strategy: "fallback" }, "alias", "fast"],
    [
      "orgs",
      { id: "globex", allowedRegions: ["eu"] },
      { id: "globex", allowedRegions: ["eu"] },
      "id",
      "globex",
    ],
  ])(
    "creates %s: 201 with the stored entry (defaults applied), then GET finds it",
    async (resource, body, stored, _f, id) => {
      const res = await f.call("POST", `/admin/${resource}`, body);
      expect([res.status, res.json]).toEqual([201, stored]);
      expect((await f.call("GET", `/admin/${resource}/${id}`)).json).toEqual(stored);
    },
  );

  it.each([
    ["providers", { ...newProvider, id: "mock" }, "id"],
    ["models", { ...newModel, alias: "smart" }, "alias"],
    ["orgs", { id: "acme" }, "id"],
  ])("refuses to create an existing %s with 409 conflict", async (resource, body, param) => {
    const res = await f.call("POST", `/admin/${resource}`, body);
    expect([res.status, errorOf(res.json).code, errorOf(res.json).param]).toEqual([409, "conflict", param]);
  });

  it.each<[string, string, unknown, string, string]>([
    [
      "a provider with a bad kind",
      "/admin/providers",
      { id: "x", kind: "cohere" },
      "kind",
      "invalid_request_body",
    ],
    [
      "a provider with an unknown field",
      "/admin/providers",
      { id: "x", kind: "mock", apiKey: "sk-1" },
      "apiKey",
      "invalid_request_body",
    ],
    [
      "a provider reading its key from a variable the gateway's platform sets",
      "/admin/providers",
      { id: "x", kind: "openai", apiKeyEnv: "AWS_SECRET_ACCESS_KEY" },
      "apiKeyEnv",
      "invalid_request_body",
    ],
    [
      "an org named like the gateway's own audit chain",
      "/admin/orgs",
      { id: "system" },
      "id",
      "invalid_request_body",
    ],
    [
      "a provider with a bad id",
      "/admin/providers",
      { id: "Bad Id", kind: "mock" },
      "id",
      "invalid_request_body",
    ],
    [
      "a model without targets",
      "/admin/models",
      { alias: "x", targets: [] },
      "targets",
      "invalid_request_body",
    ],
    [
      "a model target without a model",
      "/admin/models",
      { alias: "x", targets: [{ provider: "mock" }] },
      "targets[0].model",
      "missing_required_parameter",
    ],
    [
      "a model with a bad target provider id",
      "/admin/models",
      { alias: "x", targets: [{ provider: "Nope", model: "m" }] },
      "targets[0].provider",
      "invalid_request_body",
    ],
    [
      "a model naming an unknown provider",
      "/admin/models",
      {
        alias: "x",
        targets: [
          { provider: "mock", model: "m" },
          { provider: "nope", model: "m" },
        ],
      },
      "targets[1].provider",
      "unknown_provider",
    ],
    ["an org with an unknown field", "/admin/orgs", { id: "x", budget: 5 }, "budget", "invalid_request_body"],
  ])("refuses %s with 400 naming the field", async (_n, path, body, param, code) => {
    const res = await f.call("POST", path, body);
    expect(res.status).toBe(400);
    expect([errorOf(res.json).param, errorOf(res.json).code]).toEqual([param, code]);
  });

  it.each([
    [
      "providers",
      "mock",
      { kind: "mock", region: "eu" },
      { id: "mock", kind: "mock", region: "eu", models: [] },
    ],
    [
      "models",
      "smart",
      { targets: [{ provider: "mock", model: "echo" }] },
      { alias: "smart", strategy: "fallback", targets: [{ provider: "mock", model: "echo" }] },
    ],
    ["orgs", "acme", { id: "acme", name: "Acme" }, { id: "acme", name: "Acme" }],
  ])("replaces %s with PUT (the path names the entry)", async (resource, id, body, stored) => {
    const res = await f.call("PUT", `/admin/${resource}/${id}`, body);
    expect([res.status, res.json]).toEqual([200, stored]);
    expect((await f.call("GET", `/admin/${resource}/${id}`)).json).toEqual(stored);
  });

  it.each([
    ["providers", "mock", { id: "other", kind: "mock" }, "id"],
    ["models", "smart", { alias: "other", targets: [{ provider: "mock", model: "m" }] }, "alias"],
    ["orgs", "acme", { id: "other" }, "id"],
  ])("refuses a PUT on %s whose body names another id", async (resource, id, body, param) => {
    const res = await f.call("PUT", `/admin/${resource}/${id}`, body);
    expect([res.status, errorOf(res.json).param, errorOf(res.json).code]).toEqual([
      400,
      param,
      "id_mismatch",
    ]);
  });

  it.each(["providers", "models", "orgs"])(
    "answers 404 for a missing %s on GET, PUT and DELETE",
    async (resource) => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res = await f.call(method, `/admin/${resource}/ghost`, method === "PUT" ? {} : undefined);
        expect([res.status, errorOf(res.json).type]).toEqual([404, "invalid_request_error"]);
      }
    },
  );

  it.each([
    ["models", "default"],
    ["orgs", "empty"],
  ])("deletes %s with 204 and no body", async (resource, id) => {
    const res = await f.call("DELETE", `/admin/${resource}/${id}`);
    expect([res.status, res.text]).toEqual([204, ""]);
    expect((await f.call("GET", `/admin/${resource}/${id}`)).status).toBe(404);
  });

  it("deletes a provider once no model uses it", async () => {
    expect((await f.call("DELETE", "/admin/models/smart")).status).toBe(204);
    expect((await f.call("DELETE", "/admin/providers/oa")).status).toBe(204);
  });

  /** An admin-made provider p2 and alias m2 on it, and a key allowed both, from the file or not. */
  const allowedByKey = async (source: "config" | undefined) => {
    expect((await f.call("POST", "/admin/providers", { id: "p2", kind: "mock" })).status).toBe(201);
    const m2 = { alias: "m2", targets: [{ provider: "mock", model: "echo" }] };
    expect((await f.call("POST", "/admin/models", m2)).status).toBe(201);
    await f.deps.keys.put({
      id: "scoped",
      org: "acme",
      role: "api",
      sha256: "c".repeat(64),
      models: ["m2", "p2/echo", "smart"],
      createdAt: "2026-11-27T00:00:00.000Z",
      ...(source ? { source } : {}),
    });
  };

  it.each([
    ["config", 409],
    [undefined, 204],
  ] as const)(
    "deletes an admin-made alias a key allows only when the key is not the file's (%s)",
    async (source, status) => {
      await allowedByKey(source);
      const res = await f.call("DELETE", "/admin/models/m2");
      expect(res.status).toBe(status);
      if (status === 409) expect(errorOf(res.json).message).toMatch(/config-file key\(s\) 'scoped'/);
    },
  );

  it("refuses to delete an admin-made provider a config-file key allows provider/model names of", async () => {
    await allowedByKey("config");
    const res = await f.call("DELETE", "/admin/providers/p2");
    expect([res.status, errorOf(res.json).message]).toEqual([
      409,
      expect.stringMatching(/config-file key\(s\) 'scoped'/),
    ]);
  });

  it("deletes an alias the config file declares, which the next start brings back, whoever allows it", async () => {
    await allowedByKey("config");
    expect((await f.call("DELETE", "/admin/models/smart")).status).toBe(204);
  });

  it.each([
    ["a provider used by a model", "/admin/providers/oa", /model\(s\) 'smart'/],
    ["an org used by keys", "/admin/orgs/acme", /key\(s\) 'adm', 'app'/],
  ])("refuses to delete %s with 409 naming who uses it", async (_n, path, who) => {
    const before = await storedState(f.deps);
    const res = await f.call("DELETE", path);
    expect([res.status, errorOf(res.json).code]).toEqual([409, "conflict"]);
    expect(errorOf(res.json).message).toMatch(who);
    expect(await storedState(f.deps)).toEqual(before);
  });
});
