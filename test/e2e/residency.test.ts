import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, DISARMED_BREAKER, EU_KEY, type Harness, startHarness } from "./harness.ts";

/**
 * Data residency, verified at the simulators: the EU-only org (`eu-org`, allowedRegions ["eu"]) uses
 * aliases whose targets span us (oa, an) and eu (ge). A US target is never called for it, not even to
 * fall back when the EU target fails.
 */
let h: Harness;
beforeAll(async () => {
  // A first-byte wait well past the 600 ms a slow target below takes, on a loaded machine too.
  h = await startHarness({ breaker: DISARMED_BREAKER, timeouts: { firstByteMs: 5_000 } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const ask = async (model: string, stream = false) => {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${EU_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "bonjour" }] }),
  });
  return { status: res.status, provider: res.headers.get("x-gateway-provider"), body: await res.text() };
};

const usCalls = () => h.openai.requests.length + h.anthropic.requests.length;

describe("residency for an EU-only org", () => {
  it("serves a mixed-region alias from the EU target only, stream and non-stream", async () => {
    for (let i = 0; i < 10; i++) {
      const r = await ask("anywhere", i % 2 === 0);
      expect(r.status).toBe(200);
      expect(r.provider).toBe("ge");
    }
    expect(h.gemini.requests).toHaveLength(10);
    expect(usCalls()).toBe(0);
  });

  it("never falls back out of region when the EU target fails", async () => {
    h.gemini.enqueueFaults(...Array.from({ length: 4 }, () => ({ kind: "status", status: 503 }) as const));
    const r = await ask("anywhere");
    expect(r.status).toBe(502);
    expect(usCalls()).toBe(0);
  });

  it.each(["us-only", "chain-down", "oa/gpt-sim"])(
    "refuses %s with 403 residency_violation, calling no one",
    async (model) => {
      const r = await ask(model);
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error.code).toBe("residency_violation");
      expect(usCalls() + h.gemini.requests.length).toBe(0);
    },
  );

  it("lists only what an EU target can serve, and 404s the rest on retrieval", async () => {
    const get = (path: string) =>
      fetch(`${h.gateway.url}${path}`, { headers: { authorization: `Bearer ${EU_KEY}` } });
    const list = (await (await get("/v1/models")).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id).sort()).toEqual(["anywhere", "chain", "eu-chat"]);
    expect((await get("/v1/models/eu-chat")).status).toBe(200);
    expect((await get("/v1/models/us-only")).status).toBe(404);
  });

  it("keeps the fallback chain inside the region: chain (oa → an → ge) is served by ge at once", async () => {
    const r = await ask("chain");
    expect(r.provider).toBe("ge");
    expect(usCalls()).toBe(0);
  });

  describe("a fallback target relabelled out of the region while the request is under way", () => {
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${h.gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const euOpenAi = (region: string) => ({
      id: "eu-oa",
      kind: "openai",
      baseUrl: h.openai.url,
      apiKeyEnv: "SIM_OPENAI_KEY",
      region,
    });

    beforeAll(async () => {
      expect((await admin("POST", "/admin/providers", euOpenAi("eu"))).status).toBe(201);
      const alias = {
        alias: "relabel",
        retry: { retriesPerTarget: 0 },
        targets: [
          { provider: "ge", model: "gemini-sim" },
          { provider: "eu-oa", model: "gpt-sim" },
        ],
      };
      expect((await admin("POST", "/admin/models", alias)).status).toBe(201);
    });

    it("is not tried: the org's regions hold for the registry as it is when the fallback comes", async () => {
      // While in the region, the fallback serves.
      h.gemini.enqueueFaults({ kind: "status", status: 503 });
      expect((await ask("relabel")).provider).toBe("eu-oa");
      h.reset();
      // The EU target answers 503 after 600 ms; meanwhile the fallback's provider is relabelled "us".
      h.gemini.enqueueFaults({ kind: "status", status: 503, afterMs: 600 });
      const asked = ask("relabel");
      await new Promise((r) => setTimeout(r, 150));
      expect((await admin("PUT", "/admin/providers/eu-oa", euOpenAi("us"))).status).toBe(200);
      const r = await asked;
      expect(r.status).toBe(502);
      expect(h.openai.requests).toHaveLength(0);
      expect((await admin("PUT", "/admin/providers/eu-oa", euOpenAi("eu"))).status).toBe(200);
    });
  });
});
