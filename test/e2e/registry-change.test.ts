import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqliteRegistryStore } from "../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { API_KEY, DISARMED_BREAKER, type Harness, startHarness } from "./harness.ts";

/**
 * A registry change under load, made the way another instance (or the admin API) makes it: through the
 * store, not through this process. Requests in flight finish on the route they started on; new requests
 * take the new route within 2 s, with no restart.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ breaker: DISARMED_BREAKER });
});
afterAll(() => h.close());

async function ask(stream: boolean) {
  const started = Date.now();
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "us-only", stream, messages: [{ role: "user", content: "route me" }] }),
  });
  const text = await res.text();
  return { started, status: res.status, provider: res.headers.get("x-gateway-provider"), text };
}

describe("registry change under load", () => {
  it("finishes in-flight requests on the old route and moves new ones within 2 s", async () => {
    // Four slow requests in flight on the old route (oa answers after 0.7 s, inside the 0.8 s first-byte timeout).
    h.openai.enqueueFaults(...Array.from({ length: 4 }, () => ({ kind: "delay", ms: 700 }) as const));
    const inFlight = [ask(true), ask(false), ask(true), ask(false)];
    await expect.poll(() => h.openai.requests.length).toBe(4);

    // Background load throughout the change.
    let loading = true;
    const load: Array<Awaited<ReturnType<typeof ask>>> = [];
    const worker = async (i: number) => {
      while (loading) load.push(await ask(i % 2 === 0));
    };
    const workers = [0, 1, 2].map(worker);

    const other = createSqliteRegistryStore(openDatabase(join(h.dataDir, "gateway.sqlite")));
    const models = h.config.models.map((m) =>
      m.alias === "us-only" ? { ...m, targets: [{ provider: "an", model: "claude-sim" }] } : m,
    );
    await other.applyConfig({ ...h.config, models });
    const changedAt = Date.now();

    await expect
      .poll(() => load.some((r) => r.started > changedAt && r.provider === "an"), {
        timeout: 2_000,
        interval: 20,
      })
      .toBe(true);
    const switchedAfter =
      Math.min(...load.filter((r) => r.provider === "an").map((r) => r.started)) - changedAt;
    await new Promise((r) => setTimeout(r, 300));
    loading = false;
    await Promise.all(workers);

    expect(switchedAfter).toBeLessThan(2_000);
    expect(load.every((r) => r.status === 200)).toBe(true);
    // Once switched, it stays switched: no request that started later went to the old route.
    const firstNew = Math.min(...load.filter((r) => r.provider === "an").map((r) => r.started));
    expect(load.filter((r) => r.started > firstNew + 50 && r.provider !== "an")).toEqual([]);

    const old = await Promise.all(inFlight);
    for (const r of old) {
      expect(r.status).toBe(200);
      expect(r.provider).toBe("oa");
      // Complete answers, not cut-offs: a stream ends with [DONE], a completion carries the echo.
      expect(r.text.includes("data: [DONE]") || r.text.includes("Echo: route me")).toBe(true);
      expect(r.text).not.toContain('"error"');
    }
    process.stdout.write(`\nregistry change: new route taken ${switchedAfter} ms after the write\n`);
  });
});
