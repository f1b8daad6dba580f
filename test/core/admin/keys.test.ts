import { beforeEach, describe, expect, it } from "vitest";
import { authenticate } from "../../../core/gateway/authenticate.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { type AdminFixture, adminFixture, errorOf } from "./fixture.ts";

let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
});

const auth = (key: string) => authenticate({ authorization: `Bearer ${key}` }, f.deps.keys);

describe("admin API: keys", () => {
  it("creates a key, returns its secret once, and the secret authenticates at once", async () => {
    const res = await f.call("POST", "/admin/keys", { id: "ci", org: "acme", name: "CI", models: ["smart"] });
    expect(res.status).toBe(201);
    const body = res.json as Record<string, unknown>;
    expect(body).toEqual({
      id: "ci",
      org: "acme",
      role: "api",
      name: "CI",
      models: ["smart"],
      createdAt: "2026-01-01T00:00:00.000Z",
      key: expect.stringMatching(/^sk-gw-[\w-]{43}$/),
    });
    expect((await auth(body.key as string)).id).toBe("ci");
    const stored = await f.deps.keys.get("ci");
    expect(stored?.sha256).toBe(sha256Hex(body.key as string));
    // Never again: not in GET, not in the list, and no hash either.
    for (const path of ["/admin/keys/ci", "/admin/keys"]) {
      const text = (await f.call("GET", path)).text;
      expect(text).not.toContain(body.key as string);
      expect(text).not.toContain(stored!.sha256);
      expect(text).not.toContain("sha256");
    }
  });

  it("creates a key with budgets and rate limits, shown by GET and stored on the key", async () => {
    const limits = {
      budgets: [{ period: "month", limitUsd: 25 }],
      rateLimits: { requestsPerMinute: 30, tokensPerMinute: 40_000 },
    };
    const res = await f.call("POST", "/admin/keys", { id: "metered", org: "acme", ...limits });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject(limits);
    expect((await f.call("GET", "/admin/keys/metered")).json).toMatchObject({ id: "metered", ...limits });
    expect(await f.deps.keys.get("metered")).toMatchObject(limits);
    expect(f.changes.at(-1)?.after).toMatchObject(limits);
  });

  it("generates an id when none is given", async () => {
    const res = await f.call("POST", "/admin/keys", { org: "acme", role: "admin" });
    expect([res.status, (res.json as { id: string }).id, (res.json as { role: string }).role]).toEqual([
      201,
      "key-id1",
      "admin",
    ]);
  });

  it("lists keys without secrets", async () => {
    const res = await f.call("GET", "/admin/keys");
    expect(res.json).toEqual({
      object: "list",
      data: [
        { id: "adm", org: "acme", role: "admin", createdAt: "t0" },
        { id: "app", org: "acme", role: "api", createdAt: "t0" },
      ],
      first_id: "adm",
      last_id: "app",
      has_more: false,
    });
  });

  it.each<[string, unknown, number, string | null, string]>([
    ["an unknown org", { org: "nope" }, 400, "org", "unknown_org"],
    [
      "an allowed model that names nothing",
      { org: "acme", models: ["nope"] },
      400,
      "models[0]",
      "unknown_model",
    ],
    ["an empty allow-list", { org: "acme", models: [] }, 400, "models", "invalid_request_body"],
    ["a missing org", { name: "x" }, 400, "org", "missing_required_parameter"],
    ["a caller-chosen hash", { org: "acme", sha256: "a".repeat(64) }, 400, "sha256", "invalid_request_body"],
    ["a bad role", { org: "acme", role: "root" }, 400, "role", "invalid_request_body"],
    ["a taken id", { id: "app", org: "acme" }, 409, "id", "conflict"],
    [
      "a zero budget",
      { org: "acme", budgets: [{ period: "day", limitUsd: 0 }] },
      400,
      "budgets[0].limitUsd",
      "invalid_request_body",
    ],
    [
      "an unknown period",
      { org: "acme", budgets: [{ period: "week", limitUsd: 1 }] },
      400,
      "budgets[0].period",
      "invalid_request_body",
    ],
    [
      "two budgets for one period",
      {
        org: "acme",
        budgets: [
          { period: "day", limitUsd: 1 },
          { period: "day", limitUsd: 2 },
        ],
      },
      400,
      "budgets",
      "invalid_request_body",
    ],
    [
      "a fractional rate limit",
      { org: "acme", rateLimits: { requestsPerMinute: 1.5 } },
      400,
      "rateLimits.requestsPerMinute",
      "invalid_request_body",
    ],
    [
      "an unknown rate-limit field",
      { org: "acme", rateLimits: { perSecond: 1 } },
      400,
      "rateLimits.perSecond",
      "invalid_request_body",
    ],
  ])("refuses a key with %s", async (_n, body, status, param, code) => {
    const res = await f.call("POST", "/admin/keys", body);
    expect([res.status, errorOf(res.json).param, errorOf(res.json).code]).toEqual([status, param, code]);
    expect((await f.deps.keys.list()).map((k) => k.id)).toEqual(["adm", "app"]);
  });

  describe("edit (PATCH)", () => {
    const limits = {
      budgets: [{ period: "month", limitUsd: 25 }],
      rateLimits: { requestsPerMinute: 30, tokensPerMinute: 40_000 },
    };
    const create = async () =>
      (
        await f.call("POST", "/admin/keys", {
          id: "metered",
          org: "acme",
          name: "CI",
          models: ["smart"],
          ...limits,
        })
      ).json as { key: string; budgets: Array<{ since: string }> };

    it("changes what it names and keeps the rest; the same secret authenticates as the edited key", async () => {
      const created = await create();
      const res = await f.call("PATCH", "/admin/keys/metered", {
        budgets: [{ period: "day", limitUsd: 1 }],
        rateLimits: { requestsPerMinute: 5 },
      });
      expect(res.status).toBe(200);
      const edited = {
        id: "metered",
        org: "acme",
        role: "api",
        name: "CI",
        // Left out, so kept: an edit of the budget does not open the key to every model.
        models: ["smart"],
        budgets: [{ period: "day", limitUsd: 1 }],
        rateLimits: { requestsPerMinute: 5 },
      };
      expect(res.json).toMatchObject(edited);
      expect(res.text).not.toContain("sha256");
      // The next request sees it: no wait for the key cache.
      expect(await auth(created.key)).toMatchObject(edited);
      expect(f.changes.at(-1)).toMatchObject({
        action: "replace",
        kind: "key",
        id: "metered",
        after: edited,
      });
    });

    it("removes a field sent as null", async () => {
      await create();
      const res = await f.call("PATCH", "/admin/keys/metered", { models: null, budgets: null, name: null });
      expect(res.json).toEqual({
        id: "metered",
        org: "acme",
        role: "api",
        rateLimits: limits.rateLimits,
        createdAt: "2026-01-01T00:00:00.000Z",
      });
    });

    it("keeps a budget's since (and so its counter) for its period, with a new limit", async () => {
      const created = await create();
      const res = await f.call("PATCH", "/admin/keys/metered", {
        budgets: [{ period: "month", limitUsd: 50 }],
      });
      expect(res.json).toMatchObject({
        budgets: [{ period: "month", limitUsd: 50, since: created.budgets[0]!.since }],
      });
    });

    it.each([
      ["a limit past $9 007, which rounding once made another", 16_410.62, 16_410.62],
      ["a limit stored with digits past the nano-dollar, before limits were rounded", 0.0500000009, 0.05],
    ])("edits a key with %s", async (_what, stored, kept) => {
      await f.deps.keys.create({
        id: "legacy",
        org: "acme",
        role: "api",
        sha256: "b".repeat(64),
        createdAt: "t0",
        budgets: [{ period: "day", limitUsd: stored }],
      });
      const renamed = await f.call("PATCH", "/admin/keys/legacy", { name: "renamed" });
      expect(renamed.status).toBe(200);
      expect(renamed.json).toMatchObject({ name: "renamed", budgets: [{ limitUsd: stored }] });
      // A limit it is sent is kept as it is enforced.
      const sent = await f.call("PATCH", "/admin/keys/legacy", {
        budgets: [{ period: "day", limitUsd: stored }],
      });
      expect(sent.json).toMatchObject({ budgets: [{ limitUsd: kept }] });
    });

    it("takes back a GET body, whose createdAt is the gateway's", async () => {
      await create();
      const got = (await f.call("GET", "/admin/keys/metered")).json as Record<string, unknown>;
      const res = await f.call("PATCH", "/admin/keys/metered", { ...got, name: "renamed" });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ ...got, name: "renamed" });
    });

    it.each([
      ["another org", { org: "other" }, "org", "immutable_field"],
      ["another role", { role: "admin" }, "role", "immutable_field"],
      ["another id", { id: "renamed" }, "id", "id_mismatch"],
      ["a model nobody serves", { models: ["nope"] }, "models[0]", "unknown_model"],
      ["an empty list of models", { models: [] }, "models", "invalid_request_body"],
      [
        "two budgets of one period",
        {
          budgets: [
            { period: "day", limitUsd: 1 },
            { period: "day", limitUsd: 2 },
          ],
        },
        "budgets",
        "invalid_request_body",
      ],
      ["its hash", { sha256: "0".repeat(64) }, "sha256", "invalid_request_body"],
      ["a name longer than 256 characters", { name: "n".repeat(257) }, "name", "invalid_request_body"],
    ])("refuses %s, changing nothing", async (_what, body, param, code) => {
      await create();
      const before = await f.deps.keys.get("metered");
      const res = await f.call("PATCH", "/admin/keys/metered", body);
      expect([res.status, errorOf(res.json).param, errorOf(res.json).code]).toEqual([400, param, code]);
      expect(await f.deps.keys.get("metered")).toEqual(before);
    });

    it("refuses a key the config file declares: the next start would put the file's back", async () => {
      await f.deps.keys.put({ ...(await f.deps.keys.get("app"))!, source: "config" });
      const res = await f.call("PATCH", "/admin/keys/app", { name: "renamed" });
      expect([res.status, errorOf(res.json).code]).toEqual([409, "conflict"]);
    });

    it("does not bring back a key revoked while the edit was on its way", async () => {
      const created = await create();
      const record = (await f.deps.keys.get("metered"))!;
      expect(await f.deps.keys.remove("metered")).toBe(true);
      // The edit read the key before the revocation landed.
      expect(await f.deps.keys.update({ ...record, name: "late edit" }, record)).toBe(false);
      await expect(auth(created.key)).rejects.toMatchObject({ status: 401 });
      expect(await f.deps.keys.get("metered")).toBeUndefined();
    });

    it("keeps both of two edits of different fields sent at once", async () => {
      await create();
      const [a, b] = await Promise.all([
        f.call("PATCH", "/admin/keys/metered", { name: "renamed" }),
        f.call("PATCH", "/admin/keys/metered", { rateLimits: { requestsPerMinute: 1 } }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(await f.deps.keys.get("metered")).toMatchObject({
        name: "renamed",
        models: ["smart"],
        rateLimits: { requestsPerMinute: 1 },
      });
    });

    it("answers 404 for a key that does not exist", async () => {
      const res = await f.call("PATCH", "/admin/keys/ghost", { budgets: [] });
      expect([res.status, errorOf(res.json).code]).toEqual([404, "key_not_found"]);
    });
  });

  it("revokes a key: 204, then the secret no longer authenticates and GET is 404", async () => {
    const created = (await f.call("POST", "/admin/keys", { id: "tmp", org: "acme" })).json as { key: string };
    expect((await f.call("DELETE", "/admin/keys/tmp")).status).toBe(204);
    await expect(auth(created.key)).rejects.toMatchObject({ status: 401 });
    expect((await f.call("GET", "/admin/keys/tmp")).status).toBe(404);
    expect((await f.call("DELETE", "/admin/keys/tmp")).status).toBe(404);
  });

  it("refuses to delete the last admin key, but deletes one of two", async () => {
    const last = await f.call("DELETE", "/admin/keys/adm");
    expect([last.status, errorOf(last.json).code]).toEqual([409, "conflict"]);
    await f.call("POST", "/admin/keys", { id: "adm2", org: "acme", role: "admin" });
    expect((await f.call("DELETE", "/admin/keys/adm")).status).toBe(204);
  });

  it("keeps an admin key when the last two are deleted at the same time", async () => {
    await f.call("POST", "/admin/keys", { id: "adm2", org: "acme", role: "admin" });
    const [a, b] = await Promise.all([
      f.call("DELETE", "/admin/keys/adm"),
      f.call("DELETE", "/admin/keys/adm2"),
    ]);
    const admins = (await f.deps.keys.list()).filter((k) => k.role === "admin").map((k) => k.id);
    expect(admins.length).toBeGreaterThan(0);
    // Each answer says what happened to its key: 204 gone, 409 kept.
    for (const [id, res] of [
      ["adm", a],
      ["adm2", b],
    ] as const) {
      expect([204, 409]).toContain(res.status);
      expect(admins.includes(id)).toBe(res.status === 409);
    }
    // Here both deletes ran before either counted: both keys came back, and `adm` still
    // authenticates with the secret it had.
    expect(admins).toEqual(["adm", "adm2"]);
    expect((await f.call("GET", "/admin/keys")).status).toBe(200);
  });
});
