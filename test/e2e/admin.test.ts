import { request } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, API_KEY, type Harness, rawRequest, startHarness } from "./harness.ts";

/**
 * The admin API on the portable server (`/admin/...` goes to the admin handler, as API Gateway routes
 * `ANY /admin/{proxy+}` to the admin Lambda) and its promise: a change reaches requests within 2 s,
 * without a restart. The gateway caches the registry for 1 s, so each case warms that cache first.
 */
const PROPAGATION_MS = 2_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const admin = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
  rawRequest(h, {
    method,
    path,
    headers: { authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const ask = (client: OpenAI, model: string) =>
  client.chat.completions
    .create({ model, messages: [{ role: "user", content: "hot reload" }] })
    .withResponse();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `probe` until it returns true; resolves with the time that took (fails after 5 s). */
async function timeUntil(probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 5_000) {
    if (await probe().catch(() => false)) return performance.now() - started;
    await sleep(25);
  }
  throw new Error("the change never took effect");
}

/** A request whose path goes as written (fetch would resolve its dot segments before sending). */
function sentAsWritten(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.gateway.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    // The path as written, after the URL above was taken apart.
    req.path = path;
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("admin API over the portable server", () => {
  it.each(["/v1/%2e%2e/admin/orgs", "/admin/orgs/acme/../beta", "/admin/orgs/%2E%2E/keys"])(
    "answers %s with 404 as sent, rather than resolve its dot segments into another route",
    async (path) => {
      const res = await sentAsWritten(path);
      expect(res.status).toBe(404);
      expect(res.body).toContain(`(GET ${path})`);
    },
  );

  it("routes /admin to the admin handler: 401 without a key, 403 with an API key, 404 off the table", async () => {
    const none = await rawRequest(h, { method: "GET", path: "/admin/providers" });
    expect([none.status, none.headers.get("x-request-id")?.length]).toEqual([401, 36]);
    expect((await admin("GET", "/admin/providers", undefined, API_KEY)).status).toBe(403);
    const unknown = await admin("GET", "/admin/widgets");
    expect([unknown.status, (unknown.json as { error: { code: string } }).error.code]).toEqual([
      404,
      "unknown_url",
    ]);
    // Everything else still reaches the router.
    expect((await rawRequest(h, { method: "GET", path: "/healthz" })).status).toBe(200);
  });

  it("reads admin bodies up to its own 1 MiB limit, whatever the router's maxBodyBytes (256 KiB here)", async () => {
    const padded = (bytes: number, id: string) => `{"id":"${id}","name":"Padded"}`.padEnd(bytes, " ");
    const send = (body: string) =>
      rawRequest(h, {
        method: "POST",
        path: "/admin/orgs",
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body,
      });
    const within = await send(padded(300 * 1024, "padded-300k"));
    expect(within.status).toBe(201);
    const over = await send(padded(1024 * 1024 + 1, "padded-1m"));
    expect([over.status, (over.json as { error: { code: string } }).error.code]).toEqual([
      413,
      "request_too_large",
    ]);
    expect((await admin("GET", "/admin/orgs/padded-1m")).status).toBe(404);
  });

  it("refuses a query parameter on a route that reads none, as the lists refuse unknown ones", async () => {
    const item = await admin("GET", "/admin/orgs/acme?x=1");
    expect([item.status, (item.json as { error: { param: string } }).error.param]).toEqual([400, "x"]);
    const list = await admin("GET", "/admin/orgs?x=1");
    expect([list.status, (list.json as { error: { param: string } }).error.param]).toEqual([400, "x"]);
    expect((await admin("GET", "/admin/orgs?limit=1")).status).toBe(200);
  });

  it("keeps a provider made through the admin API off when its key variable is one no provider may read", async () => {
    const stray = { id: "stray", kind: "openai", baseUrl: h.openai.url, apiKeyEnv: "STRAY_SECRET_TOKEN" };
    const listed = { id: "listed", kind: "openai", baseUrl: h.openai.url, apiKeyEnv: "LISTED_PROVIDER_KEY" };
    expect((await admin("POST", "/admin/providers", stray)).status).toBe(201);
    expect((await admin("POST", "/admin/providers", listed)).status).toBe(201);
    const refused = await ask(h.client, "stray/gpt-sim").catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 404, code: "model_not_found" });
    const { response } = await ask(h.client, "listed/gpt-sim");
    expect(response.headers.get("x-gateway-provider")).toBe("listed");
    expect(JSON.stringify(h.openai.requests)).not.toContain("stray-secret-that-must-not-leak");
  });

  it("serves a new provider and alias to the openai SDK within 2 s", async () => {
    await ask(h.client, "smart"); // the registry is now cached in the router
    const provider = { id: "fresh-oa", kind: "openai", baseUrl: h.openai.url, apiKeyEnv: "SIM_OPENAI_KEY" };
    expect((await admin("POST", "/admin/providers", provider)).status).toBe(201);
    const alias = { alias: "hot", targets: [{ provider: "fresh-oa", model: "gpt-sim" }] };
    expect((await admin("POST", "/admin/models", alias)).status).toBe(201);

    let servedBy = "";
    const took = await timeUntil(async () => {
      const { data, response } = await ask(h.client, "hot");
      servedBy = response.headers.get("x-gateway-provider") ?? "";
      return data.choices.length > 0;
    });
    expect(servedBy).toBe("fresh-oa");
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it.each([
    ["no key", undefined, 401, "invalid_api_key"],
    ["an org's API key", API_KEY, 403, "admin_key_required"],
  ])(
    "serves GET /metrics, which shows every org's spend, to admin keys only: %s gets %i",
    async (_, key, status, code) => {
      const res = await rawRequest(h, {
        method: "GET",
        path: "/metrics",
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
      expect(res.status).toBe(status);
      expect(res.json).toMatchObject({ error: { code } });
      expect(res.text).not.toContain("llm_gateway_");
      const allowed = await admin("GET", "/metrics");
      expect(allowed.status).toBe(200);
      expect(allowed.text).toContain("llm_gateway_requests_total");
    },
  );

  it("answers /metrics with a request id, to HEAD too, and a 405 with Allow for another method", async () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const get = await fetch(`${h.gateway.url}/metrics?x=1`, { headers: auth });
    // A UUIDv7 like every other response's (a time-ordered id: version nibble 7).
    expect([get.status, get.headers.get("x-request-id")?.[14]]).toEqual([200, "7"]);
    const head = await fetch(`${h.gateway.url}/metrics`, { method: "HEAD", headers: auth });
    expect([head.status, await head.text()]).toEqual([200, ""]);
    const post = await fetch(`${h.gateway.url}/metrics`, { method: "POST", headers: auth });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    expect(post.headers.get("x-request-id")).toHaveLength(36);
  });

  it("refuses a provider whose headers would replace the gateway's credential, naming the header", async () => {
    const provider = {
      id: "sneaky",
      kind: "openai",
      baseUrl: h.openai.url,
      apiKeyEnv: "SIM_OPENAI_KEY",
      headers: { authorization: "Bearer someone-elses-key" },
    };
    const res = await admin("POST", "/admin/providers", provider);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      error: {
        param: "headers.authorization",
        message: "Invalid 'headers.authorization': the gateway sets this header itself.",
      },
    });
    expect((await admin("GET", "/admin/providers/sneaky")).status).toBe(404);
  });

  it("moves new requests to the alias's new target within 2 s of a PUT", async () => {
    const body = { targets: [{ provider: "an", model: "claude-sim" }] };
    expect((await admin("PUT", "/admin/models/hot", body)).status).toBe(200);
    const took = await timeUntil(async () => {
      const { response } = await ask(h.client, "hot");
      return response.headers.get("x-gateway-provider") === "an";
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
    // And it stays there.
    const { response } = await ask(h.client, "hot");
    expect(response.headers.get("x-gateway-model")).toBe("claude-sim");
  });

  it("issues a key that works at once, and rejects it within 2 s of its deletion", async () => {
    const created = await admin("POST", "/admin/keys", { id: "e2e-temp", org: "acme" });
    expect(created.status).toBe(201);
    const secret = (created.json as { key: string }).key;
    const client = new OpenAI({ apiKey: secret, baseURL: `${h.gateway.url}/v1`, maxRetries: 0 });
    const { response } = await ask(client, "smart");
    expect(response.status).toBe(200);

    expect((await admin("DELETE", "/admin/keys/e2e-temp")).status).toBe(204);
    const took = await timeUntil(async () => {
      try {
        await ask(client, "smart");
        return false;
      } catch (err) {
        return err instanceof OpenAI.AuthenticationError && err.status === 401;
      }
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it("answers a deleted alias with 404 model_not_found within 2 s", async () => {
    expect((await admin("DELETE", "/admin/models/hot")).status).toBe(204);
    const took = await timeUntil(async () => {
      try {
        await ask(h.client, "hot");
        return false;
      } catch (err) {
        return err instanceof OpenAI.NotFoundError;
      }
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
  });
});
