import { describe, expect, it } from "vitest";
import { auth, bodyText, chatBody, dataLines, rawPost, useOpenAISimulators } from "./raw-client.ts";

const openai = useOpenAISimulators();

describe("fault injection (raw HTTP)", () => {
  it("reset-before gives a socket error", async () => {
    const sim = await openai();
    sim.enqueueFaults({ kind: "reset-before" });
    const r = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(r.status).toBe(0);
    expect(r.error?.message).toMatch(/socket hang up|ECONNRESET/);
    expect(sim.requests).toHaveLength(1);
    const ok = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(ok.status).toBe(200);
  });

  it("hang-before times out at the client; close() ends hanging sockets promptly", async () => {
    const sim = await openai();
    sim.enqueueFaults({ kind: "hang-before" }, { kind: "hang-before" });
    const r = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth, 150);
    expect(r.error?.message).toBe("client timeout");
    const pending = rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth, 10_000);
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    await sim.close();
    const second = await pending;
    expect(second.error).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("html answers 200 text/html; status uses the provider body or a custom one", async () => {
    const sim = await openai();
    sim.enqueueFaults(
      { kind: "html" },
      { kind: "status", status: 503 },
      { kind: "status", status: 502, body: "upstream down", headers: { "x-custom": "1" } },
    );
    const html = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect(bodyText(html)).toContain("<html>");
    const s503 = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(s503.status).toBe(503);
    expect(JSON.parse(bodyText(s503))).toMatchObject({ error: { type: "server_error" } });
    const custom = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect([custom.status, bodyText(custom), custom.headers["x-custom"]]).toEqual([
      502,
      "upstream down",
      "1",
    ]);
  });

  it("invalid-json: truncated body (non-stream), broken first data line (stream)", async () => {
    const sim = await openai();
    sim.enqueueFaults({ kind: "invalid-json" }, { kind: "invalid-json" });
    const r = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    expect(() => JSON.parse(bodyText(r))).toThrow();
    const s = await rawPost(`${sim.url}/chat/completions`, chatBody("x", true), auth);
    const lines = dataLines(bodyText(s));
    expect(() => JSON.parse(lines[0] ?? "")).toThrow();
    expect(lines.at(-1)).toBe("[DONE]");
  });

  it("reset-mid / hang-mid stop after N events; non-stream reset-mid sends half a body", async () => {
    const sim = await openai();
    sim.enqueueFaults(
      { kind: "reset-mid", afterEvents: 3 },
      { kind: "hang-mid", afterEvents: 2 },
      { kind: "reset-mid", afterEvents: 1 },
    );
    const reset = await rawPost(`${sim.url}/chat/completions`, chatBody("a long enough message", true), auth);
    expect(reset.status).toBe(200);
    expect(reset.error).toBeDefined();
    expect(dataLines(bodyText(reset))).toHaveLength(3);
    const hang = await rawPost(
      `${sim.url}/chat/completions`,
      chatBody("a long enough message", true),
      auth,
      300,
    );
    expect(hang.error?.message).toBe("client timeout");
    expect(dataLines(bodyText(hang))).toHaveLength(2);
    const half = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(half.error).toBeDefined();
    expect(bodyText(half).length).toBeGreaterThan(10);
  });

  it("delay answers normally after ms; faults are consumed in order and scripts survive faults", async () => {
    const sim = await openai();
    sim.enqueueFaults({ kind: "status", status: 429 }, { kind: "delay", ms: 120 });
    sim.enqueueScripts({ text: "scripted" });
    const first = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(first.status).toBe(429);
    const t0 = Date.now();
    const second = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(JSON.parse(bodyText(second)).choices[0].message.content).toBe("scripted");
    const third = await rawPost(`${sim.url}/chat/completions`, chatBody("x"), auth);
    expect(JSON.parse(bodyText(third)).choices[0].message.content).toBe("Echo: x");
  });
});
