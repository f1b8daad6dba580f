import { beforeEach, describe, expect, it } from "vitest";
import { type AdminFixture, adminFixture, errorOf } from "./fixture.ts";

let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
  expect(
    (await f.call("POST", "/admin/providers", { id: "p2", kind: "mock", models: ["echo"] })).status,
  ).toBe(201);
});

const modelOn = (alias: string, provider: string) => ({ alias, targets: [{ provider, model: "echo" }] });

/**
 * Runs `other` (another admin's write) right after the wrapped read answered, where `when` says: the
 * moment between a handler's reference check and its write. Once, unless `every` read should.
 */
function interleaved<A extends unknown[], R>(
  read: (...args: A) => Promise<R>,
  when: (...args: A) => boolean,
  other: () => Promise<unknown>,
  every = false,
): (...args: A) => Promise<R> {
  let done = false;
  return async (...args: A) => {
    const out = await read(...args);
    if ((every || !done) && when(...args)) {
      done = true;
      await other();
    }
    return out;
  };
}

describe("admin API: a reference check and its write, with another admin between them", () => {
  it("refuses a model whose provider another admin deleted after the model's check", async () => {
    const registry = f.deps.registry;
    let deleted = 0;
    f.deps.registry = {
      ...registry,
      get: interleaved(
        registry.get,
        (kind, id) => kind === "provider" && id === "p2",
        async () => (deleted = (await f.call("DELETE", "/admin/providers/p2")).status),
      ),
    };
    const res = await f.call("POST", "/admin/models", modelOn("m2", "p2"));
    expect(deleted).toBe(204);
    expect([res.status, errorOf(res.json).code]).toEqual([400, "unknown_provider"]);
    expect(await registry.get("model", "m2")).toBeUndefined();
  });

  it("refuses to delete a provider that another admin's model came to use after the delete's check", async () => {
    const registry = f.deps.registry;
    let created = 0;
    f.deps.registry = {
      ...registry,
      list: interleaved(
        registry.list,
        (kind) => kind === "model",
        async () => (created = (await f.call("POST", "/admin/models", modelOn("m2", "p2"))).status),
      ),
    };
    const res = await f.call("DELETE", "/admin/providers/p2");
    expect(created).toBe(201);
    expect([res.status, errorOf(res.json).message]).toEqual([
      409,
      "Provider 'p2' is used by model(s) 'm2'; change or delete them first.",
    ]);
    expect(await registry.get("provider", "p2")).toBeDefined();
  });

  it("refuses a key, and keeps none, when another admin deleted its org while it was made", async () => {
    const keys = f.deps.keys;
    let deleted = 0;
    // The org's delete checks for keys before this key exists, and lands before the key does.
    f.deps.keys = {
      ...keys,
      create: async (record) => {
        deleted = (await f.call("DELETE", "/admin/orgs/empty")).status;
        await keys.create(record);
      },
    };
    const res = await f.call("POST", "/admin/keys", { id: "late", org: "empty", role: "api" });
    expect(deleted).toBe(204);
    expect([res.status, errorOf(res.json).code]).toEqual([400, "unknown_org"]);
    expect(await keys.get("late")).toBeUndefined();
    expect(f.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      "create provider p2",
      "delete org empty",
    ]);
  });

  it("refuses to delete an org that another admin gave a key after the delete's check", async () => {
    const keys = f.deps.keys;
    let created = 0;
    f.deps.keys = {
      ...keys,
      list: interleaved(
        keys.list,
        () => true,
        async () =>
          (created = (await f.call("POST", "/admin/keys", { id: "k2", org: "empty", role: "api" })).status),
      ),
    };
    const res = await f.call("DELETE", "/admin/orgs/empty");
    expect(created).toBe(201);
    expect([res.status, errorOf(res.json).message]).toEqual([
      409,
      "Org 'empty' is used by key(s) 'k2'; delete them first.",
    ]);
    expect(await f.deps.registry.get("org", "empty")).toBeDefined();
  });

  it("gives up with 409 when other writes keep landing between the check and the write, writing nothing", async () => {
    const registry = f.deps.registry;
    let n = 0;
    f.deps.registry = {
      ...registry,
      get: interleaved(
        registry.get,
        (kind) => kind === "provider",
        () => registry.create("org", { id: `busy-${++n}` }),
        true,
      ),
    };
    const res = await f.call("POST", "/admin/models", modelOn("m2", "p2"));
    expect([res.status, errorOf(res.json).code]).toEqual([409, "conflict"]);
    expect(errorOf(res.json).message).toMatch(/kept changing/);
    expect(n).toBe(10);
    expect(await registry.get("model", "m2")).toBeUndefined();
  });

  it("never refuses a write without references for other admins' writes: it has nothing to check", async () => {
    const registry = f.deps.registry;
    let n = 0;
    f.deps.registry = {
      ...registry,
      get: interleaved(
        registry.get,
        (_kind, _id) => true,
        () => registry.create("provider", { id: `busy-${++n}`, kind: "mock", region: "global", models: [] }),
        true,
      ),
    };
    expect((await f.call("POST", "/admin/orgs", { id: "calm" })).status).toBe(201);
    expect((await f.call("PUT", "/admin/providers/p2", { kind: "mock", models: ["echo", "x"] })).status).toBe(
      200,
    );
  });
});
