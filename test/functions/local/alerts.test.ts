import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { matches } from "../../../core/events/pattern.ts";
import type { EventEnvelope } from "../../../core/events/port.ts";
import type { Log, LogFields } from "../../../core/log.ts";
import { alertSubscriptions } from "../../../functions/local/alerts.ts";

const threshold: EventEnvelope = {
  version: "0",
  id: "evt-1",
  "detail-type": "budget.threshold",
  source: "llm-gateway",
  account: "000000000000",
  time: "2026-11-26T07:00:00Z",
  region: "local",
  resources: [],
  detail: {
    scope: "org",
    id: "acme",
    org: "acme",
    period: "month",
    periodKey: "2026-11",
    threshold: 80,
    limitUsd: 100,
    spentUsd: 80.5,
    time: "2026-11-26T07:00:00Z",
  },
};

function recorder() {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) =>
    void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const log: Log = { info: at("info"), warn: at("warn"), error: at("error") };
  return { log, lines };
}

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/**
 * A webhook answering `status`, recording what it received; `/moved` answers `redirect` (when given)
 * with a Location of `/alerts`.
 */
async function webhook(status: number, redirect?: number) {
  const received: Array<{ path?: string; method?: string; type?: string; body: unknown }> = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const entry = { method: req.method, type: req.headers["content-type"], body: JSON.parse(body) };
      received.push(redirect ? { path: req.url, ...entry } : entry);
      if (redirect && req.url === "/moved") res.writeHead(redirect, { location: "/alerts" }).end();
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received };
}

/** A webhook that reads the request and answers as `answer` says; returns its URL. */
async function listen(answer: (res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
}

/** Delivers one event to every subscription, as the local bus would, each on its own. */
const deliver = (subs: ReturnType<typeof alertSubscriptions>) =>
  Promise.allSettled(subs.map((sub) => sub.handle(threshold)));

describe("alertSubscriptions", () => {
  it("take budget.threshold events from the gateway, and nothing else", () => {
    for (const { pattern } of alertSubscriptions(recorder().log, "http://127.0.0.1:9/alerts")) {
      expect(matches(pattern, threshold as unknown as Record<string, unknown>)).toBe(true);
      const usage = { ...threshold, "detail-type": "llm.usage" };
      expect(matches(pattern, usage as unknown as Record<string, unknown>)).toBe(false);
    }
  });

  it("log every crossing as a warning naming the budget, with no webhook configured", async () => {
    const { log, lines } = recorder();
    const subs = alertSubscriptions(log, undefined);
    expect(subs).toHaveLength(1);
    await deliver(subs);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "budget threshold crossed",
        fields: {
          scope: "org",
          id: "acme",
          period: "month 2026-11",
          threshold: 80,
          spentUsd: 80.5,
          limitUsd: 100,
        },
      },
    ]);
  });

  it("POST the EventBridge envelope to the webhook as JSON", async () => {
    const hook = await webhook(204);
    await deliver(alertSubscriptions(recorder().log, hook.url));
    expect(hook.received).toEqual([{ method: "POST", type: "application/json", body: threshold }]);
  });

  it.each([307, 308])("follow a %i redirect with the same POST and body", async (status) => {
    const hook = await webhook(204, status);
    await deliver(alertSubscriptions(recorder().log, hook.url.replace("/alerts", "/moved")));
    expect(hook.received).toEqual([
      { path: "/moved", method: "POST", type: "application/json", body: threshold },
      { path: "/alerts", method: "POST", type: "application/json", body: threshold },
    ]);
  });

  it.each([301, 302, 303])(
    "fail on a %i redirect, which could turn the POST into a GET, naming its target",
    async (status) => {
      const hook = await webhook(204, status);
      const [, posted] = await deliver(
        alertSubscriptions(recorder().log, hook.url.replace("/alerts", "/moved")),
      );
      expect(posted).toMatchObject({
        status: "rejected",
        reason: { message: `alert webhook answered HTTP ${status} (to ${hook.url})` },
      });
      expect(hook.received).toHaveLength(1);
    },
  );

  it("bound the whole POST, redirects included, not each hop", async () => {
    // Every hop redirects after 150 ms: four hops would take 600 ms.
    const url = await listen((res) => {
      setTimeout(() => res.writeHead(307, { location: "/alerts" }).end(), 150);
    });
    const [, posted] = alertSubscriptions(recorder().log, url, 400);
    const started = Date.now();
    await expect(posted!.handle(threshold)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(550);
  });

  it("give up on a webhook that never answers within the POST's time, to retry it later", async () => {
    const url = await listen(() => undefined);
    const [, posted] = alertSubscriptions(recorder().log, url, 300);
    const started = Date.now();
    await expect(posted!.handle(threshold)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([
    ["trickles a byte at a time", (res: ServerResponse) => setInterval(() => res.write("x"), 50)],
    [
      "never ends",
      (res: ServerResponse) => {
        res.write("{");
        return undefined;
      },
    ],
  ])("count a 200 whose body %s as delivered, without waiting for the body", async (_, body) => {
    const url = await listen((res) => {
      res.writeHead(200, { "content-length": "1000" });
      const drip = body(res);
      res.on("close", () => clearInterval(drip));
    });
    const [, posted] = alertSubscriptions(recorder().log, url, 5_000);
    const started = Date.now();
    await posted!.handle(threshold);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("order alerts by budget: one budget's refused alert holds back only that budget's", () => {
    for (const sub of alertSubscriptions(recorder().log, "http://127.0.0.1:9/alerts")) {
      const other = { ...threshold, detail: { ...threshold.detail, id: "beta" } };
      const otherPeriod = {
        ...threshold,
        detail: { ...threshold.detail, period: threshold.detail.period === "day" ? "month" : "day" },
      };
      const keyed = sub.orderKey!;
      expect(keyed(threshold)).toBe(keyed({ ...threshold, detail: { ...threshold.detail, threshold: 100 } }));
      expect(keyed(threshold)).not.toBe(keyed(other));
      expect(keyed(threshold)).not.toBe(keyed(otherPeriod));
    }
  });

  it("fail the webhook's delivery alone when it does not answer 2xx, so the bus retries only that", async () => {
    const hook = await webhook(503);
    const { log, lines } = recorder();
    const subs = alertSubscriptions(log, hook.url);
    const [logged, posted] = await deliver(subs);
    expect(logged?.status).toBe("fulfilled");
    expect(posted).toMatchObject({
      status: "rejected",
      reason: { message: "alert webhook answered HTTP 503" },
    });
    expect(new Set(subs.map((s) => s.name)).size).toBe(2);
    // The bus retries the failed subscription only: the crossing stays logged once.
    await subs[1]!.handle(threshold).catch(() => undefined);
    expect(lines).toHaveLength(1);
    expect(hook.received).toHaveLength(2);
  });
});
