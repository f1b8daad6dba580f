import { beforeEach, describe, expect, it } from "vitest";
import { type AdminFixture, adminFixture, storedState } from "./fixture.ts";

let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
});

describe("admin API: invalid changes change nothing", () => {
  it.each<[string, string, string, unknown]>([
    ["create with a bad field", "POST", "/admin/providers", { id: "x", kind: "nope" }],
    [
      "create naming an unknown provider",
      "POST",
      "/admin/models",
      { alias: "x", targets: [{ provider: "nope", model: "m" }] },
    ],
    ["create of an existing id", "POST", "/admin/orgs", { id: "acme" }],
    ["replace with a bad field", "PUT", "/admin/models/smart", { targets: [] }],
    [
      "replace naming an unknown provider",
      "PUT",
      "/admin/models/smart",
      { targets: [{ provider: "nope", model: "m" }] },
    ],
    ["replace renaming the entry", "PUT", "/admin/orgs/acme", { id: "acme2" }],
    ["replace of a missing entry", "PUT", "/admin/orgs/ghost", { id: "ghost" }],
    ["delete of a provider in use", "DELETE", "/admin/providers/mock", undefined],
    ["delete of an org in use", "DELETE", "/admin/orgs/acme", undefined],
    ["delete of a missing key", "DELETE", "/admin/keys/ghost", undefined],
    ["key for an unknown org", "POST", "/admin/keys", { org: "ghost" }],
    ["malformed JSON", "POST", "/admin/orgs", "{"],
    ["an API key's write", "POST", "/admin/orgs", { id: "sneaky" }],
  ])("%s: same version, entries and keys; no change reported", async (name, method, path, body) => {
    const before = await storedState(f.deps);
    const res = await f.call(method, path, body, name.startsWith("an API key") ? "api-secret" : undefined);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await storedState(f.deps)).toEqual(before);
    expect(f.changes).toEqual([]);
    expect(f.logs.filter((l) => l.message === "admin change")).toEqual([]);
  });
});

describe("admin API: every write is reported once, without secrets", () => {
  it("bumps the version and reports create, replace and delete with before/after", async () => {
    const v0 = await f.deps.registry.version();
    await f.call("POST", "/admin/orgs", { id: "globex" });
    await f.call("PUT", "/admin/orgs/globex", { name: "Globex" });
    await f.call("DELETE", "/admin/orgs/globex");
    expect(await f.deps.registry.version()).toBe(v0 + 3);
    expect(f.changes).toEqual([
      {
        requestId: "req-1",
        actorKeyId: "adm",
        action: "create",
        kind: "org",
        id: "globex",
        before: undefined,
        after: { id: "globex" },
      },
      {
        requestId: "req-1",
        actorKeyId: "adm",
        action: "replace",
        kind: "org",
        id: "globex",
        before: { id: "globex" },
        after: { id: "globex", name: "Globex" },
      },
      {
        requestId: "req-1",
        actorKeyId: "adm",
        action: "delete",
        kind: "org",
        id: "globex",
        before: { id: "globex", name: "Globex" },
        after: undefined,
      },
    ]);
  });

  it("logs one structured line per change: actor, action, target; no body, no secret", async () => {
    const res = await f.call("POST", "/admin/keys", { id: "ci", org: "acme", name: "do-not-log-me" });
    const secret = (res.json as { key: string }).key;
    await f.call("DELETE", "/admin/keys/ci");
    const lines = f.logs.filter((l) => l.message === "admin change").map((l) => l.fields);
    expect(lines).toEqual([
      { requestId: "req-1", actorKeyId: "adm", action: "create", kind: "key", id: "ci" },
      { requestId: "req-1", actorKeyId: "adm", action: "delete", kind: "key", id: "ci" },
    ]);
    const everything = JSON.stringify([f.logs, f.changes]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain("sha256");
    expect(f.changes[0]?.after).toMatchObject({ id: "ci", name: "do-not-log-me" });
  });

  it("keeps a completed change when the onChange hook fails, and logs the failure", async () => {
    f.deps.onChange = () => Promise.reject(new Error("audit queue down"));
    const res = await f.call("POST", "/admin/orgs", { id: "kept" });
    expect(res.status).toBe(201);
    expect((await f.deps.registry.get("org", "kept"))?.source).toBe("admin");
    expect(f.logs.map((l) => l.message)).toContain("admin change hook failed");
  });
});

describe("admin API: a registry write and its record commit together, where the store can", () => {
  it.each<[string, string, string, unknown, string]>([
    ["a create", "POST", "/admin/orgs", { id: "beta" }, "create"],
    ["a replace", "PUT", "/admin/orgs/empty", { id: "empty", name: "Empty" }, "replace"],
    ["a delete", "DELETE", "/admin/orgs/empty", undefined, "delete"],
    [
      "a key's creation (with the registry bump that makes it count)",
      "POST",
      "/admin/keys",
      { org: "acme" },
      "create",
    ],
    ["a key's edit", "PATCH", "/admin/keys/app", { name: "renamed" }, "replace"],
    ["an API key's revocation", "DELETE", "/admin/keys/app", undefined, "delete"],
  ])("records %s inside the write's transaction, then as before", async (_n, method, path, body, action) => {
    const inside: boolean[] = [];
    const kind = path.startsWith("/admin/keys") ? "key" : "org";
    f.deps.recordWithin = (change) => {
      inside.push(f.db.isTransaction);
      expect(change).toMatchObject({ requestId: "req-1", actorKeyId: "adm", action, kind });
    };
    expect((await f.call(method, path, body)).status).toBeLessThan(300);
    expect(inside).toEqual([true]);
    expect(f.changes.map((c) => c.action)).toEqual([action]);
  });

  it("leaves an admin key's revocation to the record after it, as the revocation may be taken back", async () => {
    const called: string[] = [];
    f.deps.recordWithin = (change) => void called.push(change.id);
    expect((await f.call("POST", "/admin/keys", { id: "adm2", org: "acme", role: "admin" })).status).toBe(
      201,
    );
    expect((await f.call("DELETE", "/admin/keys/adm2")).status).toBe(204);
    expect(called).toEqual(["adm2"]);
    expect(f.changes.map((c) => `${c.action} ${c.id}`)).toEqual(["create adm2", "delete adm2"]);
  });

  it("undoes the write when its record cannot be written: nothing changed, nothing recorded", async () => {
    const before = await storedState(f.deps);
    f.deps.recordWithin = () => {
      throw new Error("audit queue table unwritable");
    };
    expect((await f.call("PUT", "/admin/orgs/empty", { id: "empty", name: "Empty" })).status).toBe(500);
    expect(await storedState(f.deps)).toEqual(before);
    expect(f.changes).toEqual([]);
  });
});
