import type { DatabaseSync } from "node:sqlite";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { type AdminChange, type AdminDeps, handleAdminEvent } from "../../../core/admin/dispatch.ts";
import { parseConfig } from "../../../core/config/parse.ts";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import type { LogFields } from "../../../core/log.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

export const ADMIN = "admin-secret";
export const API = "api-secret";

/** The registry every admin test starts from: two providers, two aliases, two orgs, two keys. */
export const SEED = parseConfig({
  providers: [
    { id: "mock", kind: "mock", models: ["echo"] },
    { id: "oa", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", region: "us" },
  ],
  models: [
    { alias: "default", targets: [{ provider: "mock", model: "echo" }] },
    { alias: "smart", targets: [{ provider: "oa", model: "gpt-4o" }] },
  ],
  orgs: [{ id: "acme" }, { id: "empty" }],
});

export interface AdminFixture {
  deps: AdminDeps;
  /** The stores' database: whether a hook ran inside a write's transaction is read from it. */
  db: DatabaseSync;
  changes: AdminChange[];
  logs: Array<{ message: string; fields: LogFields | undefined }>;
  call(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
    /** A custom domain's base path, which API Gateway puts in `path` and not in `resource`. */
    basePath?: string,
  ): Promise<{ status: number; headers: Record<string, string>; json: unknown; text: string }>;
}

/** The admin request path over real (in-memory) SQLite stores, called with REST proxy events. */
export async function adminFixture(): Promise<AdminFixture> {
  const db = openDatabase(":memory:");
  const registry = createSqliteRegistryStore(db);
  const keys = createSqliteKeyStore(db);
  await registry.applyConfig(SEED);
  await keys.create({ id: "adm", org: "acme", role: "admin", sha256: sha256Hex(ADMIN), createdAt: "t0" });
  await keys.create({ id: "app", org: "acme", role: "api", sha256: sha256Hex(API), createdAt: "t0" });
  const changes: AdminChange[] = [];
  const logs: AdminFixture["logs"] = [];
  const log = (message: string, fields?: LogFields) => logs.push({ message, fields });
  let n = 0;
  const deps: AdminDeps = {
    registry,
    keys,
    log: { info: log, warn: log, error: log },
    newId: () => `id${++n}`,
    // No real waiting between a guarded write's rounds.
    sleep: async () => {},
    random: () => 0.5,
    now: () => Date.UTC(2026, 0, 1),
    onChange: (c) => {
      changes.push(c);
    },
  };
  return {
    deps,
    db,
    changes,
    logs,
    async call(method, target, body, key = ADMIN, basePath = "") {
      // A query string goes where API Gateway puts it: null when there is none.
      const [path, qs] = target.split("?");
      const params = qs === undefined ? undefined : [...new URLSearchParams(qs)];
      // Without a prototype, as portable mode builds them (proxy-event.ts): `__proto__` is a parameter.
      const multi: Record<string, string[]> = Object.create(null);
      for (const [k, v] of params ?? []) multi[k] = [...(multi[k] ?? []), v];
      const event = {
        httpMethod: method,
        resource: "/admin/{proxy+}",
        path: `${basePath}${path}`,
        // API Gateway's two views of the query string: the last value of each, and all of them.
        queryStringParameters: params ? Object.fromEntries(params) : null,
        multiValueQueryStringParameters: params ? multi : null,
        headers: key ? { Authorization: `Bearer ${key}` } : {},
        body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { requestId: "req-1" },
      } as unknown as APIGatewayProxyEvent;
      const res = await handleAdminEvent(event, deps);
      let json: unknown;
      try {
        json = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, json, text: res.body };
    },
  };
}

/** Everything an admin call could have changed: the version, every entry and every key. */
export async function storedState(deps: AdminDeps) {
  return {
    version: await deps.registry.version(),
    snapshot: await deps.registry.load(),
    keys: await deps.keys.list(),
  };
}

export const errorOf = (json: unknown) =>
  (json as { error: { type: string; param: string | null; code: string | null; message: string } }).error;
