import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Fault } from "../simulators/index.ts";
import { API_KEY, DISARMED_BREAKER, type Harness, startHarness, TIMEOUTS } from "./harness.ts";

/**
 * A caller that disconnects before its response started: the gateway aborts the upstream call in
 * flight and neither retries nor falls back (`chain` is oa → an → ge). The request is logged as 499
 * `client_closed`, the status nginx uses for a client that closed the request.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ breaker: DISARMED_BREAKER });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** Long enough for a retry or a fallback to have happened had the gateway gone on. */
const SETTLE_MS = TIMEOUTS.firstByteMs + 700;

/** Sends a chat request on `chain` and disconnects after `leaveAtMs`; returns when it left. */
async function callAndLeave(stream: boolean, leaveAtMs: number): Promise<number> {
  const client = new AbortController();
  const request = fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chain", stream, messages: [{ role: "user", content: "hello there" }] }),
    signal: client.signal,
  }).then(
    () => "answered",
    () => "aborted",
  );
  await sleep(leaveAtMs);
  const leftAt = Date.now();
  client.abort();
  expect(await request).toBe("aborted");
  return leftAt;
}

const CASES: Array<{ name: string; stream: boolean; fault: Fault; leaveAtMs: number; answered: boolean }> = [
  {
    name: "non-stream, the provider answering 503 after 1 s",
    stream: false,
    fault: { kind: "status", status: 503, afterMs: 1_000 },
    leaveAtMs: 200,
    answered: true,
  },
  {
    name: "stream, the provider silent before its headers",
    stream: true,
    fault: { kind: "hang-before" },
    leaveAtMs: 300,
    answered: true,
  },
  {
    name: "stream, the provider silent after its role-only opener",
    stream: true,
    fault: { kind: "hang-mid", afterEvents: 1 },
    leaveAtMs: 300,
    answered: true,
  },
  {
    name: "non-stream, the provider's body stalling half-way",
    stream: false,
    fault: { kind: "hang-mid", afterEvents: 1 },
    leaveAtMs: 300,
    answered: true,
  },
];

describe("a caller that leaves before its response started", () => {
  it.each(CASES)("$name: the upstream call is aborted, and nothing is retried", async (c) => {
    h.openai.enqueueFaults(...Array.from({ length: 4 }, () => c.fault));
    const leftAt = await callAndLeave(c.stream, c.leaveAtMs);
    await expect.poll(() => h.openai.requests[0]?.closedAt).toBeDefined();
    // Aborted with the caller, not when a timeout or the provider would have ended it.
    expect(h.openai.requests[0]!.closedAt! - leftAt).toBeLessThan(300);
    await sleep(SETTLE_MS);
    expect(h.openai.requests).toHaveLength(1);
    expect(h.anthropic.requests).toHaveLength(0);
    expect(h.gemini.requests).toHaveLength(0);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const outcome = h.outcomes[0]!;
    expect(outcome).toMatchObject({ status: 499, errorCode: "client_closed", provider: "oa" });
    expect(outcome.attempts).toEqual([
      expect.objectContaining({ provider: "oa", outcome: "failed", code: "client_closed" }),
    ]);
    // The provider had the request, answered or not (OpenAI finishes a non-streamed completion after
    // the client has gone): accounting charges that attempt at its worst case, never $0.
    expect(outcome.attempts[0]!.answered === true).toBe(c.answered);
  });
});

describe("a caller that leaves after its stream started", () => {
  it("closes the upstream, logs client_closed on the 200, and does not blame the provider", async () => {
    h.openai.enqueueFaults({ kind: "hang-mid", afterEvents: 3 });
    const client = new AbortController();
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "chain",
        stream: true,
        messages: [{ role: "user", content: "hello there" }],
      }),
      signal: client.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"content":"Echo"');
    client.abort();
    await expect.poll(() => h.openai.requests[0]?.closedAt).toBeDefined();
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ status: 200, errorCode: "client_closed", usagePartial: true });
    expect(h.outcomes[0]!.attempts).toEqual([expect.objectContaining({ provider: "oa", outcome: "ok" })]);
    expect(h.anthropic.requests).toHaveLength(0);
  });
});

describe("a caller that leaves while its non-stream answer is being written", () => {
  it("is logged with the 200 and client_closed, since it did not get the answer the provider billed", async () => {
    // Far more than the connection's kernel buffers hold: most of it is still to write when the caller goes.
    h.openai.enqueueScripts({ text: "x".repeat(16 * 1024 * 1024) });
    const { port } = new URL(h.gateway.url);
    const body = JSON.stringify({ model: "chain", messages: [{ role: "user", content: "hello there" }] });
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        ),
      );
      socket.once("data", () => {
        socket.destroy();
        resolve();
      });
    });
    await expect.poll(() => h.outcomes.length, { timeout: 5_000 }).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ status: 200, errorCode: "client_closed", provider: "oa" });
  });
});
