import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chatRequest } from "../../core/api/chat-request.ts";
import { worstCaseChatCost } from "../../core/budgets/estimate.ts";
import { nanos, usdOf } from "../../core/budgets/money.ts";
import { costUsd, priceFor, type TokenUsage } from "../../core/budgets/pricing.ts";
import { WINDOW_MS } from "../../core/ratelimit/port.ts";
import { ADMIN_KEY, DISARMED_BREAKER, type Harness, startHarness } from "./harness.ts";

/**
 * Budgets, rate limits, usage accounting and alerts through the portable gateway. `oa/gpt-exact` is priced
 * (by a config override) at $0 input and $1 000 per 1M output tokens, and the simulator reports exactly
 * `max_tokens` (16) output tokens, so a request's actual cost equals its reservation: $0.016. That makes
 * "how many fit" exact instead of approximate.
 */
const COST = 0.016;
const CAPPED = "sk-gw-capped-key";
const ALERTED = "sk-gw-alerted-key";
const EXHAUSTED = "sk-gw-exhausted-key";
const REFUSED_ALERTS = "sk-gw-refused-alerts-key";
const HEARD_ALERTS = "sk-gw-heard-alerts-key";
const LIMITED = "sk-gw-limited-key";
const PLAIN = "sk-gw-plain-key";
const OVERBILLED = "sk-gw-overbilled-key";
const CHANGED = "sk-gw-changed-key";
const LATE = "sk-gw-late-key";
const REGAINED = "sk-gw-regained-key";
const TPM = "sk-gw-tpm-key";
const TPM_UNSERVED = "sk-gw-tpm-unserved-key";
const TPM_CUT = "sk-gw-tpm-cut-key";
const TPM_BROKEN = "sk-gw-tpm-broken-key";
const TPM_RETRIED = "sk-gw-tpm-retried-key";
const BOUNDED = "sk-gw-bounded-key";
const TINY = "sk-gw-tiny-key";
const TINY_LIMITED = "sk-gw-tiny-limited-key";
const TIERED = "sk-gw-tiered-key";
const LOST = "sk-gw-lost-key";
const THINKER = "sk-gw-thinker-key";
const PICKY = "sk-gw-picky-key";
const NEARLY = "sk-gw-nearly-key";
const SPENDER = "sk-gw-shared-minute-spender";
const BYSTANDER = "sk-gw-shared-minute-bystander";
const NAMED = "sk-gw-named-key";
const SEQUENTIAL = "sk-gw-sequential-key";

/**
 * A budgeted Anthropic request with extended thinking and no limit: what it costs at most when bounded
 * by the 4 096 tokens the gateway sends, and when bounded by its whole thinking budget plus the answer.
 */
const THINKING_BODY = {
  model: "an/claude-sonnet-4-5",
  reasoning_effort: "high",
  messages: [{ role: "user", content: "think hard" }],
} as const;
const thinkingBound = (extra: Record<string, unknown>) =>
  worstCaseChatCost(
    chatRequest.parse({ ...THINKING_BODY, ...extra }),
    priceFor("anthropic", "claude-sonnet-4-5")!,
    "anthropic",
    "claude-sonnet-4-5",
  );
/**
 * A claude-sonnet-4-5 request's worst case as chat() sends it (max_tokens 16), with the input Anthropic
 * counted already (cache reads and writes none unless said).
 */
const sonnetWorstCase = (body: Record<string, unknown>, counted: Partial<TokenUsage> & { input: number }) =>
  worstCaseChatCost(
    chatRequest.parse({ ...body, max_tokens: 16 }),
    priceFor("anthropic", "claude-sonnet-4-5")!,
    "anthropic",
    "claude-sonnet-4-5",
    { output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0, ...counted },
  );
const THINKING_SENT_BOUND = thinkingBound({ max_completion_tokens: 4096 });
const THINKING_UNBOUNDED = thinkingBound({});

let h: Harness;
let webhook: Server;
const alerts: Array<{ "detail-type": string; detail: Record<string, unknown> }> = [];
/** The budget whose alerts the webhook refuses with a 400, and how many it refused. */
let refusing: string | undefined;
let refused = 0;

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const alert = JSON.parse(body);
      if (alert.detail.id === refusing) {
        refused++;
        return void res.writeHead(400).end();
      }
      alerts.push(alert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  h = await startHarness({
    breaker: DISARMED_BREAKER,
    webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts`,
    prices: {
      "gpt-exact": { inputPerMTok: 0, outputPerMTok: 1_000 },
      // Twice the price at OpenAI's priority tier and half at flex, as OpenAI bills GPT-5.x.
      "gpt-fast": {
        inputPerMTok: 0,
        outputPerMTok: 1_000,
        priority: { inputPerMTok: 0, outputPerMTok: 2_000 },
        flex: { inputPerMTok: 0, outputPerMTok: 500 },
      },
    },
    orgs: [
      { id: "capped", budgets: [{ period: "day", limitUsd: 50 * COST }] },
      // Room for one reservation (one COST) beside the small costs of the requests before it.
      { id: "sequential", budgets: [{ period: "day", limitUsd: 1.5 * COST }] },
      { id: "alerted", budgets: [{ period: "month", limitUsd: 5 * COST }] },
      // Four requests fit, the fifth does not: spend stops at 89 % of the limit.
      { id: "exhausted", budgets: [{ period: "month", limitUsd: 4.5 * COST }] },
      // One request crosses 50 %.
      { id: "refused-alerts", budgets: [{ period: "month", limitUsd: 2 * COST }] },
      { id: "heard-alerts", budgets: [{ period: "month", limitUsd: 2 * COST }] },
      { id: "limited", rateLimits: { requestsPerMinute: 3 } },
      { id: "plain" },
      { id: "overbilled", budgets: [{ period: "day", limitUsd: 10 * COST }] },
      { id: "changed", budgets: [{ period: "day", limitUsd: 100 * COST }] },
      { id: "late" },
      { id: "reborn" },
      { id: "named" },
      { id: "regained", budgets: [{ period: "month", limitUsd: 100 * COST }] },
      { id: "tpm", rateLimits: { tokensPerMinute: 150 } },
      { id: "tpm-unserved", rateLimits: { tokensPerMinute: 150 } },
      { id: "tpm-cut", rateLimits: { tokensPerMinute: 1_000 } },
      { id: "tpm-broken", rateLimits: { tokensPerMinute: 1_000 } },
      { id: "tpm-retried", rateLimits: { tokensPerMinute: 5_000 } },
      { id: "bounded", budgets: [{ period: "day", limitUsd: 1000 }] },
      { id: "tiny", budgets: [{ period: "day", limitUsd: COST / 4 }] },
      // Refuses every request by budget, with room for only two a minute by rate.
      {
        id: "tiny-limited",
        budgets: [{ period: "day", limitUsd: COST / 4 }],
        rateLimits: { requestsPerMinute: 2 },
      },
      // Room for a request at standard prices (one COST), not at priority prices (two).
      { id: "tiered", budgets: [{ period: "day", limitUsd: 1.5 * COST }] },
      // Room for the failed request's reservation (one COST) but not for what its attempts billed.
      { id: "tiny-lost", budgets: [{ period: "day", limitUsd: 1.5 * COST }] },
      // Room for one request (one COST), then for half of one.
      { id: "nearly", budgets: [{ period: "day", limitUsd: 1.5 * COST }] },
      // Refuses every request by budget, and by rate after the first of a minute.
      { id: "picky", budgets: [{ period: "day", limitUsd: COST / 4 }], rateLimits: { requestsPerMinute: 1 } },
      // Three requests a minute for the org, one key of which has room for one request (one COST).
      { id: "shared-minute", rateLimits: { requestsPerMinute: 3 } },
      // Fits a thinking request's reservation at the bound sent upstream, not at its unbounded budget.
      {
        id: "thinker",
        budgets: [{ period: "day", limitUsd: (THINKING_SENT_BOUND + THINKING_UNBOUNDED) / 2 }],
      },
    ],
    keys: [
      { id: "capped", org: "capped", secret: CAPPED },
      { id: "sequential", org: "sequential", secret: SEQUENTIAL },
      { id: "alerted", org: "alerted", secret: ALERTED },
      { id: "exhausted", org: "exhausted", secret: EXHAUSTED },
      { id: "refused-alerts", org: "refused-alerts", secret: REFUSED_ALERTS },
      { id: "heard-alerts", org: "heard-alerts", secret: HEARD_ALERTS },
      { id: "limited", org: "limited", secret: LIMITED },
      { id: "plain", org: "plain", secret: PLAIN },
      { id: "named", org: "named", secret: NAMED },
      { id: "overbilled", org: "overbilled", secret: OVERBILLED },
      { id: "changed", org: "changed", secret: CHANGED },
      { id: "late", org: "late", secret: LATE },
      { id: "regained", org: "regained", secret: REGAINED },
      { id: "tpm", org: "tpm", secret: TPM },
      { id: "tpm-unserved", org: "tpm-unserved", secret: TPM_UNSERVED },
      { id: "tpm-cut", org: "tpm-cut", secret: TPM_CUT },
      { id: "tpm-broken", org: "tpm-broken", secret: TPM_BROKEN },
      { id: "tpm-retried", org: "tpm-retried", secret: TPM_RETRIED },
      { id: "bounded", org: "bounded", secret: BOUNDED },
      { id: "tiny", org: "tiny", secret: TINY },
      { id: "tiny-limited", org: "tiny-limited", secret: TINY_LIMITED },
      { id: "tiered", org: "tiered", secret: TIERED },
      { id: "lost", org: "tiny-lost", secret: LOST },
      { id: "thinker", org: "thinker", secret: THINKER },
      { id: "picky", org: "picky", secret: PICKY },
      {
        id: "spender",
        org: "shared-minute",
        secret: SPENDER,
        budgets: [{ period: "day", limitUsd: 1.5 * COST }],
      },
      { id: "bystander", org: "shared-minute", secret: BYSTANDER },
      { id: "nearly", org: "nearly", secret: NEARLY },
    ],
  });
}, 30_000);
// Scripts a refused request never consumed must not leak into the next test.
beforeEach(() => h.reset());
afterAll(async () => {
  await h.close();
  webhook.close();
});

async function chat(key: string, body: Record<string, unknown>) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "oa/gpt-exact",
      max_tokens: 16,
      messages: [{ role: "user", content: "spend" }],
      ...body,
    }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Sends `n` chat requests on one keep-alive connection, each the moment the answer before it is complete
 * (in the same turn of the event loop), the quickest a caller can be; resolves to their statuses.
 */
async function backToBack(key: string, n: number): Promise<number[]> {
  const body = JSON.stringify({
    model: "oa/gpt-exact",
    max_tokens: 16,
    messages: [{ role: "user", content: "hi" }],
  });
  const request =
    `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const socket = connect(h.gateway.port, "127.0.0.1");
  const statuses: number[] = [];
  let got = "";
  await new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("data", (data: Buffer) => {
      got += data.toString("latin1");
      const head = got.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(got.slice(0, head))?.[1];
      const done = length ? got.length >= head + 4 + Number(length) : got.endsWith("\r\n0\r\n\r\n");
      if (!done) return;
      statuses.push(Number(got.slice(9, 12)));
      got = "";
      if (statuses.length === n) resolve();
      else socket.write(request);
    });
    socket.write(request);
  });
  socket.destroy();
  return statuses;
}

const exactUsage = (n: number) => Array.from({ length: n }, () => ({ usage: { input: 40, output: 16 } }));

/** What is left of an org's budget (daily unless said), as `/metrics` reads it from the store. */
async function remaining(org: string, period: "day" | "month" = "day"): Promise<number> {
  const res = await fetch(`${h.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const line = new RegExp(
    `llm_gateway_budget_remaining_usd\\{scope="org",id="${org}",period="${period}"\\} (\\S+)`,
  );
  return Number((await res.text()).match(line)?.[1]);
}

async function spendReport(org: string) {
  const today = new Date().toISOString().slice(0, 10);
  const res = await fetch(`${h.gateway.url}/admin/spend?from=${today}&to=${today}&org=${org}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { totals: { requests: number; costUsd: number } };
}

describe("a model named with personal data, which a lenient provider serves", () => {
  it("is masked part by part: a phone number after the provider's `/`", async () => {
    h.openai.enqueueScripts(...exactUsage(1));
    expect((await chat(NAMED, { model: "oa/+14155550199" })).status).toBe(200);
    const metrics = await fetch(`${h.gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await metrics.text();
    expect(text).not.toContain("14155550199");
    expect(text).toContain('model="oa/[PHONE]"');
  });

  it("is masked in the spend report and the metrics, as in the log", async () => {
    h.openai.enqueueScripts(...exactUsage(1));
    expect((await chat(NAMED, { model: "oa/jane.doe@example.com" })).status).toBe(200);
    await expect.poll(async () => JSON.stringify(await spendReport("named"))).toContain('"model":"[EMAIL]"');
    const today = new Date().toISOString().slice(0, 10);
    const report = await fetch(`${h.gateway.url}/admin/spend?from=${today}&to=${today}&org=named`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const metrics = await fetch(`${h.gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const texts = [await report.text(), await metrics.text()];
    for (const text of texts) expect(text).not.toContain("jane.doe@example.com");
    expect(texts[0]).toContain('"model":"[EMAIL]"');
    expect(texts[1]).toContain('model="oa/[EMAIL]"');
  });
});

describe("hard budgets under concurrency", () => {
  it("lets exactly the 50 requests that fit through out of 200 concurrent ones, and refuses the rest cleanly", async () => {
    h.openai.enqueueScripts(...exactUsage(200));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => chat(CAPPED, { stream: i % 2 === 0 })),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(50);
    for (const r of refused) {
      expect(r.status).toBe(429);
      const error = JSON.parse(r.text).error;
      expect(error.code).toBe("budget_exceeded");
      expect(error.message).toMatch(/org 'capped' daily budget of \$0\.80/);
    }
    // Refused requests never reached the provider.
    expect(h.openai.requests.filter((r) => JSON.stringify(r.body).includes("gpt-exact")).length).toBe(50);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    const report = await spendReport("capped");
    expect(report.totals.requests).toBe(200);
    expect(report.totals.costUsd).toBeCloseTo(50 * COST, 9);
    expect(report.totals.costUsd).toBeLessThanOrEqual(50 * COST + 1e-9);
    const metrics = await (
      await fetch(`${h.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    expect(metrics).toMatch(/llm_gateway_budget_remaining_usd\{scope="org",id="capped",period="day"\} 0\b/);
  }, 60_000);

  it("admits a caller's next request the moment it has the previous answer, against the previous cost and not its reservation", async () => {
    // Each answer costs a sixteenth of its reservation: eight fit beside one reservation.
    h.openai.enqueueScripts(...Array.from({ length: 6 }, () => ({ usage: { input: 40, output: 1 } })));
    expect(await backToBack(SEQUENTIAL, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    expect((await spendReport("sequential")).totals.costUsd).toBeCloseTo((6 * COST) / 16, 9);
    expect(alerts.filter((a) => a.detail.id === "sequential")).toEqual([]);
  });

  it("refuses a model without a price for a budgeted org instead of spending it as $0", async () => {
    const r = await chat(CAPPED, { model: "oa/gpt-sim" });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe("model_not_priced");
  });

  it("refuses a file under a budget, since its tokens have no bound", async () => {
    const file = { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0xLjcK" } };
    const r = await chat(BOUNDED, { messages: [{ role: "user", content: [file] }] });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({
      code: "file_not_priced",
      param: "messages[0].content[0]",
    });
    expect(h.openai.requests).toHaveLength(0);
  });

  it.each([
    ["priority", BOUNDED, 400],
    ["scale", BOUNDED, 400],
    ["flex", BOUNDED, 200],
    ["priority", PLAIN, 200],
  ] as const)(
    "service_tier %s under key %s: %i (a tier the table does not price for the model is refused under a budget)",
    async (tier, key, status) => {
      h.openai.enqueueScripts(...exactUsage(1));
      const r = await chat(key, { service_tier: tier });
      expect(r.status).toBe(status);
      if (status === 400) {
        expect(JSON.parse(r.text).error).toMatchObject({
          code: "service_tier_not_priced",
          param: "service_tier",
        });
        expect(h.openai.requests).toHaveLength(0);
      } else expect(h.openai.requests.at(-1)?.body).toMatchObject({ service_tier: tier });
    },
  );
});

describe("OpenAI's service tiers, where the table prices them", () => {
  const fast = { model: "oa/gpt-fast" };

  it("is reserved for unless the request pins another tier: OpenAI may serve `auto` at priority", async () => {
    h.openai.enqueueScripts(...exactUsage(1));
    const mayBePriority = await chat(TIERED, fast);
    expect(mayBePriority.status).toBe(429);
    expect(h.openai.requests).toHaveLength(0);
    expect((await chat(TIERED, { ...fast, service_tier: "default" })).status).toBe(200);
  });

  it.each([
    ["asked for", { service_tier: "priority" }, undefined],
    ["the project's default, answering `auto`", {}, "priority"],
  ])("is billed at its prices when OpenAI says it served the request (%s)", async (_, body, defaultTier) => {
    h.openai.enqueueScripts({ usage: { input: 40, output: 16 }, ...(defaultTier ? { defaultTier } : {}) });
    const r = await chat(BOUNDED, { ...fast, ...body });
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ serviceTier: "priority" });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(2 * COST, 9);
  });

  it.each([
    ["default", {}, COST],
    ["flex", { service_tier: "flex" }, COST / 2],
  ])("is billed at the %s tier's prices when OpenAI says it served that one", async (tier, body, cost) => {
    h.openai.enqueueScripts({ usage: { input: 40, output: 16 } });
    expect((await chat(BOUNDED, { ...fast, ...body })).status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ serviceTier: tier });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(cost, 9);
  });

  it("counts a request whose provider reported token counts no provider should (a fraction, a negative)", async () => {
    const before = (await spendReport("plain")).totals.requests;
    const served = async () => {
      const res = await fetch(`${h.gateway.url}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      return Number(
        (await res.text()).match(
          /llm_gateway_upstream_attempts_total\{provider="oa",outcome="ok"\} (\S+)/,
        )?.[1] ?? 0,
      );
    };
    const servedBefore = await served();
    h.openai.enqueueScripts({ usage: { input: 40.5, output: -3 } });
    expect((await chat(PLAIN, {})).status).toBe(200);
    await expect.poll(async () => (await spendReport("plain")).totals.requests).toBe(before + 1);
    // As billed, everywhere: the log line, /metrics (whose counters refuse a negative) and EMF.
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ promptTokens: 41, completionTokens: 0 });
    expect(await served()).toBe(servedBefore + 1);
  });

  it("counts a request whatever tier name the provider answers with, even one past the event's bound", async () => {
    const before = (await spendReport("plain")).totals.requests;
    h.openai.enqueueScripts({ usage: { input: 40, output: 16 } });
    expect((await chat(PLAIN, { service_tier: "t".repeat(100) })).status).toBe(200);
    await expect.poll(async () => (await spendReport("plain")).totals.requests).toBe(before + 1);
  });
});

describe("budget threshold alerts", () => {
  it("fires 50, 80 and 100 % exactly once each, under concurrency, to the webhook", async () => {
    h.openai.enqueueScripts(...exactUsage(12));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => chat(ALERTED, { stream: i % 3 === 0 })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    const mine = alerts.filter((a) => a.detail.id === "alerted");
    expect(mine.map((a) => a.detail.threshold).sort((a, b) => Number(a) - Number(b))).toEqual([50, 80, 100]);
    expect(mine.every((a) => a["detail-type"] === "budget.threshold" && a.detail.period === "month")).toBe(
      true,
    );
  });
});

describe("an alert the webhook refuses", () => {
  it("holds back no other org's alert, and is delivered by its retry once the webhook takes it", async () => {
    refusing = "refused-alerts";
    h.openai.enqueueScripts(...exactUsage(2));
    expect((await chat(REFUSED_ALERTS, {})).status).toBe(200);
    await expect.poll(() => refused, { timeout: 5_000 }).toBeGreaterThan(0);
    expect((await chat(HEARD_ALERTS, {})).status).toBe(200);
    const of = (org: string) => alerts.filter((a) => a.detail.id === org).map((a) => a.detail.threshold);
    // The refused alert's retry is a second off: the other org's comes well before it.
    await expect.poll(() => of("heard-alerts"), { timeout: 800 }).toEqual([50]);
    expect(of("refused-alerts")).toEqual([]);
    refusing = undefined;
    await expect.poll(() => of("refused-alerts"), { timeout: 10_000 }).toEqual([50]);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
  });
});

describe("budget exhausted alert", () => {
  it("fires 100 % once when the budget starts refusing, though spend stays below its limit", async () => {
    h.openai.enqueueScripts(...exactUsage(4));
    for (let i = 0; i < 4; i++) expect((await chat(EXHAUSTED, {})).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await chat(EXHAUSTED, {})).status).toBe(429);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    const mine = alerts.filter((a) => a.detail.id === "exhausted");
    expect(mine.map((a) => a.detail.threshold)).toEqual([50, 80, 100]);
    expect(mine[2]?.detail.spentUsd).toBeCloseTo(4 * COST, 9);
    expect(mine[2]?.detail.limitUsd).toBeCloseTo(4.5 * COST, 9);
  });
});

describe("usage is priced from the provider's own counts", () => {
  it.each([
    ["a non-stream request", { stream: false }],
    ["a stream with include_usage", { stream: true, stream_options: { include_usage: true } }],
    ["a stream without include_usage", { stream: true }],
  ])("prices %s from provider usage", async (_name, extra) => {
    h.openai.enqueueScripts({ usage: { input: 1234, output: 56, cached: 200 } });
    const r = await chat(PLAIN, { model: "oa/gpt-4o", ...extra });
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    // gpt-4o: $2.50 input, $1.25 cached input, $10 output per 1M tokens (price table).
    const expected = (1034 * 2.5 + 200 * 1.25 + 56 * 10) / 1e6;
    expect(h.outcomes[0]).toMatchObject({ promptTokens: 1234, completionTokens: 56, cachedTokens: 200 });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(expected, 9);
    expect(h.outcomes[0]?.priceVersion).toMatch(/^\d{4}-\d{2}-\d{2}-\d+$/);
  });
});

describe("an answer without the provider's usage (an OpenAI-compatible server)", () => {
  // At the tier the answer named (the simulator's `default`), as the bill would be.
  const worstAtGpt4o = (extra: Record<string, unknown>) =>
    worstCaseChatCost(
      chatRequest.parse({
        model: "oa/gpt-4o",
        max_tokens: 16,
        messages: [{ role: "user", content: "spend" }],
        ...extra,
      }),
      priceFor("openai", "gpt-4o")!,
      "openai",
      "gpt-4o",
      undefined,
      "default",
    );

  it.each([
    ["under a budget", BOUNDED],
    ["without one", PLAIN],
  ])(
    "is charged its worst case %s rather than nothing, and the caller gets no made-up count",
    async (_name, key) => {
      h.openai.enqueueScripts({ usageStyle: "none" });
      const r = await chat(key, { model: "oa/gpt-4o" });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).not.toHaveProperty("usage");
      await expect.poll(() => h.outcomes.length).toBe(1);
      expect(h.outcomes[0]?.promptTokens).toBeUndefined();
      expect(h.outcomes[0]?.costUsd).toBeCloseTo(worstAtGpt4o({}), 12);
    },
  );

  it("keeps the usage a server put on its finish chunk from a caller who did not ask, and prices from it", async () => {
    h.openai.enqueueScripts({ usageStyle: "on-finish", usage: { input: 1234, output: 56 } });
    const r = await chat(PLAIN, { model: "oa/gpt-4o", stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('"finish_reason":"stop"');
    expect(r.text).not.toContain('"usage"');
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ promptTokens: 1234, completionTokens: 56 });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo((1234 * 2.5 + 56 * 10) / 1e6, 12);
  });

  it("gives that usage to a caller who asked, on the chunk the server put it on", async () => {
    h.openai.enqueueScripts({ usageStyle: "on-finish", usage: { input: 1234, output: 56 } });
    const r = await chat(PLAIN, {
      model: "oa/gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(r.text).toMatch(/"finish_reason":"stop".*"usage":\{"prompt_tokens":1234,"completion_tokens":56/);
  });
});

describe("a budget refusal", () => {
  it("tells OpenAI's SDK not to retry it, so the caller hears at once and the gateway once", async () => {
    // The SDK's defaults: two retries of every 429, with backoff, unless `x-should-retry: false`.
    const sdk = new OpenAI({ apiKey: TINY, baseURL: `${h.gateway.url}/v1` });
    const started = Date.now();
    const err = await sdk.chat.completions
      .create({ model: "oa/gpt-exact", max_tokens: 16, messages: [{ role: "user", content: "spend" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "budget_exceeded" });
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(Date.now() - started).toBeLessThan(400);
    // $0 at the prices its target had (gpt-exact's come from the provider's `prices` in the config): not
    // "unpriced", which says a served model had no price.
    expect(h.outcomes[0]).toMatchObject({ costUsd: 0, priceVersion: "config" });
  });

  it.each([
    ["a request whose bound passes the whole limit, saying what would let it through", TINY, true],
    ["a request that would fit an unspent budget, without that advice", NEARLY, false],
  ])("explains %s", async (_, key, alone) => {
    if (key === NEARLY) {
      h.openai.enqueueScripts(...exactUsage(1));
      expect((await chat(key, {})).status).toBe(200);
    }
    const refused = await chat(key, {});
    expect(refused.status).toBe(429);
    const message: string = JSON.parse(refused.text).error.message;
    expect(message).toMatch(/this request may cost up to \$0\.0160/);
    expect(message.includes("more than the whole budget: only a smaller request")).toBe(alone);
    // A request too large for the whole budget does not use it up: it fires no alert. One that the
    // spend left no room for does: the budget is used up.
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    const org = key === TINY ? "tiny" : "nearly";
    await expect
      .poll(() => alerts.filter((a) => a.detail.id === org).map((a) => a.detail.threshold))
      .toEqual(alone ? [] : [50, 80, 100]);
  });
});

describe("budget changes", () => {
  const setBudget = async (limitUsd: number) => {
    const res = await fetch(`${h.gateway.url}/admin/orgs/changed`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ budgets: [{ period: "day", limitUsd }] }),
    });
    expect(res.status).toBe(200);
  };

  it("apply at once: the request right after an admin change obeys the new limit", async () => {
    h.openai.enqueueScripts(...exactUsage(2));
    expect((await chat(CHANGED, {})).status).toBe(200);
    // Below one request's reservation: the very next request is refused, with no wait for a cache.
    await setBudget(COST / 2);
    const refused = await chat(CHANGED, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.code).toBe("budget_exceeded");
    await setBudget(100 * COST);
    expect((await chat(CHANGED, {})).status).toBe(200);
  });

  it("apply at once for a key too: its budget changed through the admin API holds the next request", async () => {
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${h.gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const made = await admin("POST", "/admin/keys", { id: "rebudgeted", org: "plain" });
    const { key } = (await made.json()) as { key: string };
    h.openai.enqueueScripts(...exactUsage(2));
    expect((await chat(key, {})).status).toBe(200);
    const put = (limitUsd: number) =>
      admin("PATCH", "/admin/keys/rebudgeted", { budgets: [{ period: "day", limitUsd }] });
    expect((await put(COST / 2)).status).toBe(200);
    const refused = await chat(key, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error).toMatchObject({
      code: "budget_exceeded",
      param: "key:plain/rebudgeted:day",
    });
    expect(JSON.parse(refused.text).error.message).toContain("key 'plain/rebudgeted' daily budget");
    expect((await put(100 * COST)).status).toBe(200);
    expect((await chat(key, {})).status).toBe(200);
  });

  it("start afresh for a key whose id a deleted key of another org had: nothing of its spend or its minute", async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${h.gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const limits = {
      budgets: [{ period: "day", limitUsd: 1.5 * COST }],
      rateLimits: { requestsPerMinute: 1 },
    };
    const first = (await (
      await admin("POST", "/admin/keys", { id: "reused", org: "plain", ...limits })
    ).json()) as {
      key: string;
    };
    h.openai.enqueueScripts(...exactUsage(2));
    expect((await chat(first.key, {})).status).toBe(200);
    expect((await admin("DELETE", "/admin/keys/reused")).status).toBe(204);
    const second = (await (
      await admin("POST", "/admin/keys", { id: "reused", org: "reborn", ...limits })
    ).json()) as {
      key: string;
    };
    const res = await chat(second.key, {});
    expect([res.status, res.text]).toEqual([200, expect.any(String)]);
  });

  it("count what the period spent before a budget existed, up to the request that ended just before", async () => {
    h.openai.enqueueScripts(...exactUsage(3));
    // No wait for the bus: the last request's usage event may not be counted yet when the budget comes.
    for (let i = 0; i < 2; i++) expect((await chat(LATE, {})).status).toBe(200);
    const res = await fetch(`${h.gateway.url}/admin/orgs/late`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ budgets: [{ period: "month", limitUsd: 2.5 * COST }] }),
    });
    expect(res.status).toBe(200);
    // Two requests' spend this month, made while no budget counted it, leaves no room for a third.
    const refused = await chat(LATE, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.message).toMatch(
      /monthly budget of \$0\.04 \(spent or reserved \$0\.0320/,
    );
  });

  it("count what was spent while a budget was removed, once it is added again", async () => {
    const putBudgets = async (budgets: unknown[]) => {
      const res = await fetch(`${h.gateway.url}/admin/orgs/regained`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ budgets }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { budgets: Array<{ since?: string }> }).budgets;
    };
    h.openai.enqueueScripts(...exactUsage(4));
    expect((await chat(REGAINED, {})).status).toBe(200);
    await putBudgets([]);
    for (let i = 0; i < 3; i++) expect((await chat(REGAINED, {})).status).toBe(200);
    expect(await h.gateway.drainEvents(10_000)).toBe(true);
    // Four requests' spend this month, three of them made while no budget counted them.
    const [back] = await putBudgets([{ period: "month", limitUsd: 4.5 * COST }]);
    expect(back?.since).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The gauge counts the period's spend before the budget's first request does.
    expect(await remaining("regained", "month")).toBeCloseTo(0.5 * COST, 9);
    const refused = await chat(REGAINED, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.message).toMatch(/spent or reserved \$0\.0640/);
    // A limit changed later keeps the budget's counter: raised, the next request fits.
    const [raised] = await putBudgets([
      { period: "month", limitUsd: 10 * COST, since: "2020-01-01T00:00:00Z" },
    ]);
    expect(raised?.since).toBe(back?.since);
    h.openai.enqueueScripts(...exactUsage(1));
    expect((await chat(REGAINED, {})).status).toBe(200);
  });
});

describe("the output bound under a budget", () => {
  const unlimited = { messages: [{ role: "user", content: "no limit set" }], max_tokens: undefined };

  it("is sent to OpenAI as max_completion_tokens, which its reasoning models accept, when the caller set none", async () => {
    expect((await chat(BOUNDED, unlimited)).status).toBe(200);
    const sent = h.openai.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent.max_completion_tokens).toBe(4096);
    expect(sent).not.toHaveProperty("max_tokens");
  });

  it.each([
    // Models the shipped table prices, so they may serve a budgeted request.
    [
      "Anthropic's max_tokens",
      "an/claude-sonnet-4-5",
      () => h.anthropic,
      (b: Record<string, unknown>) => b.max_tokens,
    ],
    [
      "Gemini's maxOutputTokens",
      "ge/gemini-2.5-flash",
      () => h.gemini,
      (b: Record<string, unknown>) => (b.generationConfig as { maxOutputTokens?: number }).maxOutputTokens,
    ],
  ])("becomes %s", async (_, model, sim, limit) => {
    expect((await chat(BOUNDED, { ...unlimited, model })).status).toBe(200);
    expect(limit(sim().requests.at(-1)?.body as Record<string, unknown>)).toBe(4096);
  });

  it("bounds Anthropic's extended thinking too, and reserves for that bound, not for an unbounded budget", async () => {
    expect(THINKING_UNBOUNDED).toBeGreaterThan(THINKING_SENT_BOUND);
    // The org's budget fits only the bounded reservation: a refusal would mean the unbounded one.
    const r = await chat(THINKER, { ...THINKING_BODY, max_tokens: undefined });
    expect(r.status).toBe(200);
    const sent = h.anthropic.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ max_tokens: 4096, thinking: { type: "enabled", budget_tokens: 4095 } });
  });

  it("leaves a caller's own limit as it is", async () => {
    expect((await chat(BOUNDED, { max_tokens: 16 })).status).toBe(200);
    expect(h.openai.requests.at(-1)?.body).toMatchObject({ max_tokens: 16 });
    expect(h.openai.requests.at(-1)?.body).not.toHaveProperty("max_completion_tokens");
  });
});

describe("a stream cut short", () => {
  const body = {
    model: "an/claude-sonnet-4-5",
    stream: true,
    messages: [{ role: "user", content: "a fairly long message to stream" }],
  };
  // What the gateway reserved for it: the same bound, on the request as validated (max_tokens 16).
  const reserved = worstCaseChatCost(
    chatRequest.parse({ ...body, max_tokens: 16 }),
    priceFor("anthropic", "claude-sonnet-4-5")!,
    "anthropic",
    "claude-sonnet-4-5",
  );

  it("costs its worst case knowing Anthropic's early input count under a budget, not that count", async () => {
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    const r = await chat(BOUNDED, body);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/data: \{"error"/);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    // message_start's counts arrived (input, and an output of a token or so), but they are not the bill:
    // the input it counted at its price, the rest of the bound's at the dearest, the output at its bound.
    expect(o).toMatchObject({ usagePartial: true, errorCode: expect.stringMatching(/upstream_/) });
    expect(o.promptTokens).toBeGreaterThan(0);
    const counted = {
      input: o.promptTokens!,
      cached: o.cachedTokens ?? 0,
      cacheWrite: o.cacheWriteTokens ?? 0,
      cacheWrite1h: o.cacheWrite1hTokens ?? 0,
    };
    expect(o.costUsd).toBeCloseTo(sonnetWorstCase(body, counted), 12);
    expect(o.costUsd).toBeLessThanOrEqual(reserved);
    expect(o.costUsd).toBeGreaterThan(
      costUsd(priceFor("anthropic", "claude-sonnet-4-5")!, { ...counted, output: 16, reasoning: 0 }),
    );
  });

  it("prices the cache reads and writes Anthropic counted before the cut at their own prices", async () => {
    // 6 522 input tokens: 4 000 read from the cache, 300 written to it (200 of them for an hour).
    h.anthropic.enqueueScripts({
      usage: { input: 6_522, output: 16, cached: 4_000, cacheWrite: 300, cacheWrite1h: 200 },
    });
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    expect((await chat(BOUNDED, body)).status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o).toMatchObject({ usagePartial: true, promptTokens: 6_522, cachedTokens: 4_000 });
    // $3/M input, $0.30/M cache reads, $3.75/M 5-minute and $6/M 1-hour cache writes, $15/M output.
    const perMillion = 2_222 * 3 + 4_000 * 0.3 + 100 * 3.75 + 200 * 6 + 16 * 15;
    expect(o.costUsd).toBeCloseTo(perMillion / 1e6, 9);
  });

  it("costs its worst case with the counted input under a budget when that count passes the bound", async () => {
    // A prompt the byte bound underestimated: Anthropic counts 50 000 input tokens for a short message.
    h.anthropic.enqueueScripts({ usage: { input: 50_000, output: 16 } });
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    const r = await chat(BOUNDED, body);
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o).toMatchObject({ usagePartial: true, promptTokens: 50_000 });
    // The worst case with the counted input in place of the bound's, the output still at its bound
    // (Anthropic's early output count of 1 is no bill).
    const withCounted = sonnetWorstCase(body, { input: 50_000 });
    expect(withCounted).toBeGreaterThan(reserved);
    expect(o.costUsd).toBeCloseTo(withCounted, 12);
  });

  describe("by Gemini after its finish reason, before its count", () => {
    const gemini = {
      model: "ge/gemini-2.5-flash",
      stream: true,
      messages: [{ role: "user", content: "a fairly long message to stream" }],
    };
    const flash = priceFor("gemini", "gemini-2.5-flash")!;
    const usage = { input: 1_237, output: 4_093 };
    // Its worst case knowing the prompt Gemini counted in its running count.
    const worst = worstCaseChatCost(
      chatRequest.parse({ ...gemini, max_tokens: 16 }),
      flash,
      "gemini",
      "gemini-2.5-flash",
      { input: usage.input, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 },
    );

    it("is priced from the count Gemini sends in a chunk of its own after the finish reason", async () => {
      h.gemini.enqueueScripts({ text: "a long answer", usage, usageStyle: "after-finish" });
      expect((await chat(BOUNDED, gemini)).status).toBe(200);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const o = h.outcomes[0]!;
      expect(o).toMatchObject({ promptTokens: 1_237, completionTokens: 4_093 });
      expect(o.costUsd).toBeCloseTo(
        costUsd(flash, { ...usage, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 }),
        12,
      );
    });

    it("is priced from its prompt count when its answer was empty: a count of 0 output is left out", async () => {
      h.gemini.enqueueScripts({ text: "", usage: { input: 1_237, output: 0 }, usageStyle: "none" });
      expect((await chat(BOUNDED, gemini)).status).toBe(200);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const o = h.outcomes[0]!;
      expect(o.usagePartial).toBe(false);
      const prompt = { input: 1_237, output: 0, cached: 0, reasoning: 0, cacheWrite: 0, cacheWrite1h: 0 };
      expect(o.costUsd).toBeCloseTo(costUsd(flash, prompt), 12);
    });

    it.each([
      [
        "the connection breaks before that count",
        { kind: "reset-mid", afterEvents: 3 } as const,
        "after-finish",
      ],
      ["the stream ends without counting the output", undefined, "none"],
    ] as const)("costs its worst case under a budget when %s", async (_, fault, usageStyle) => {
      h.gemini.enqueueScripts({ text: "a long answer", usage, usageStyle });
      if (fault) h.gemini.enqueueFaults(fault);
      expect((await chat(BOUNDED, gemini)).status).toBe(200);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const o = h.outcomes[0]!;
      expect(o.usagePartial).toBe(true);
      expect(o.costUsd).toBeCloseTo(worst, 9);
    });
  });

  it("is priced from the counts reported so far without a budget: never $0", async () => {
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    const r = await chat(PLAIN, body);
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o.usagePartial).toBe(true);
    expect(o.costUsd).toBeGreaterThan(0);
    expect(o.costUsd).toBeLessThan(reserved);
  });

  it("counts at least a token of output for each chunk of it the caller got, not Anthropic's early 1", async () => {
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 6 });
    const r = await chat(PLAIN, body);
    expect(r.status).toBe(200);
    const delivered = r.text
      .split("\n")
      .filter((l) => l.startsWith("data: {") && !l.includes('"error"'))
      .filter((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content);
    expect(delivered.length).toBeGreaterThan(1);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ usagePartial: true, completionTokens: delivered.length });
  });

  it.each([
    ["Anthropic's message_delta", "an/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"],
    ["OpenAI's usage chunk", "oa/gpt-4o", "openai", "gpt-4o"],
  ] as const)(
    "is priced from the bill under a budget when it broke after %s, the final count",
    async (_, model, kind, providerModel) => {
      const sim = kind === "anthropic" ? h.anthropic : h.openai;
      // Every event but the last: Anthropic's message_stop, OpenAI's [DONE]. OpenAI's finish reason and
      // usage chunk had made a whole answer, which ends cleanly; Anthropic's ends in an error event.
      sim.enqueueFaults({ kind: "reset-mid", afterEvents: -1 });
      const r = await chat(BOUNDED, { ...body, model });
      expect(r.status).toBe(200);
      expect(r.text).toMatch(kind === "anthropic" ? /data: \{"error"/ : /data: \[DONE\]\s*$/);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const o = h.outcomes[0]!;
      expect(o.usagePartial).toBe(false);
      const billed = costUsd(priceFor(kind, providerModel)!, {
        input: o.promptTokens!,
        output: o.completionTokens!,
        cached: o.cachedTokens ?? 0,
        reasoning: o.reasoningTokens ?? 0,
        cacheWrite: o.cacheWriteTokens ?? 0,
        cacheWrite1h: o.cacheWrite1hTokens ?? 0,
      });
      expect(o.completionTokens).toBeGreaterThan(1);
      expect(o.costUsd).toBeCloseTo(billed, 12);
    },
  );

  it.each([
    ["under a budget", BOUNDED],
    ["without one", PLAIN],
  ])(
    "ends cleanly and is priced from the bill %s when a server put its usage on the finish chunk and closed before [DONE]",
    async (_, key) => {
      h.openai.enqueueScripts({ usageStyle: "on-finish", usage: { input: 1234, output: 56 } });
      h.openai.enqueueFaults({ kind: "reset-mid", afterEvents: -1 });
      const r = await chat(key, { ...body, model: "oa/gpt-4o" });
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('"error"');
      expect(r.text).toMatch(/data: \[DONE\]\s*$/);
      await expect.poll(() => h.outcomes.length).toBe(1);
      expect(h.outcomes[0]).toMatchObject({ usagePartial: false, promptTokens: 1234, completionTokens: 56 });
      expect(h.outcomes[0]?.costUsd).toBeCloseTo((1234 * 2.5 + 56 * 10) / 1e6, 12);
    },
  );

  it.each([false, true])(
    "prices a Gemini call it could not make from the usage Gemini billed for it (stream: %s)",
    async (stream) => {
      const answer = {
        candidates: [
          {
            content: {},
            finishReason: "MALFORMED_FUNCTION_CALL",
            finishMessage: "Malformed function call: f(",
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 1234, totalTokenCount: 1234 },
        modelVersion: "gemini-2.5-flash",
      };
      h.gemini.enqueueFaults({
        kind: "status",
        status: 200,
        body: stream ? `data: ${JSON.stringify(answer)}\r\n\r\n` : JSON.stringify(answer),
        headers: stream ? { "content-type": "text/event-stream" } : {},
      });
      const r = await chat(PLAIN, { model: "ge/gemini-2.5-flash", stream });
      expect(r.status).toBe(502);
      expect(r.text).toMatch(/upstream_malformed/);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const billed = costUsd(priceFor("gemini", "gemini-2.5-flash")!, {
        input: 1234,
        output: 0,
        cached: 0,
        reasoning: 0,
        cacheWrite: 0,
        cacheWrite1h: 0,
      });
      expect(billed).toBeGreaterThan(0);
      expect(h.outcomes[0]?.costUsd).toBeCloseTo(billed, 12);
    },
  );

  it.each([
    ["without a budget", PLAIN],
    ["under a budget", BOUNDED],
  ])(
    "charges a Gemini stream that failed right after its first content once, from its usage (%s)",
    async (_, key) => {
      const usageMetadata = { promptTokenCount: 1234, candidatesTokenCount: 5, totalTokenCount: 1239 };
      const first = {
        candidates: [{ content: { role: "model", parts: [{ text: "Hi" }] }, index: 0 }],
        usageMetadata,
      };
      const failed = {
        candidates: [{ content: {}, finishReason: "MALFORMED_FUNCTION_CALL", finishMessage: "f(", index: 0 }],
        usageMetadata,
      };
      // Both events in one write: the stream fails before the attempt loop has noted its call.
      h.gemini.enqueueFaults({
        kind: "status",
        status: 200,
        body: `data: ${JSON.stringify(first)}\r\n\r\ndata: ${JSON.stringify(failed)}\r\n\r\n`,
        headers: { "content-type": "text/event-stream" },
      });
      const r = await chat(key, { model: "ge/gemini-2.5-flash", stream: true });
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/upstream_malformed/);
      await expect.poll(() => h.outcomes.length).toBe(1);
      const o = h.outcomes[0]!;
      const served = costUsd(priceFor("gemini", "gemini-2.5-flash")!, {
        input: 1234,
        output: 5,
        cached: 0,
        reasoning: 0,
        cacheWrite: 0,
        cacheWrite1h: 0,
      });
      expect(o.attempts.filter((a) => a.answered)).toEqual([]);
      expect(o.costUsd).toBeCloseTo(served, 12);
    },
  );

  it("is priced at its worst case without a budget when it broke before any count (an OpenAI stream)", async () => {
    const openaiBody = { ...body, model: "oa/gpt-4o" };
    h.openai.enqueueFaults({ kind: "reset-mid", afterEvents: 3 });
    const r = await chat(PLAIN, openaiBody);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/data: \{"error"/);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o.promptTokens).toBeUndefined();
    // The request as sent, with chat()'s max_tokens of 16, at the tier its chunks named.
    const worst = worstCaseChatCost(
      chatRequest.parse({ ...openaiBody, max_tokens: 16 }),
      priceFor("openai", "gpt-4o")!,
      "openai",
      "gpt-4o",
      undefined,
      "default",
    );
    expect(o.costUsd).toBeCloseTo(worst, 9);
  });

  it("costs its worst case under a budget at the tier OpenAI said serves it, not at priority prices", async () => {
    const openaiBody = { ...body, model: "oa/gpt-4o" };
    h.openai.enqueueFaults({ kind: "reset-mid", afterEvents: 3 });
    const r = await chat(BOUNDED, openaiBody);
    expect(r.status).toBe(200);
    expect(r.text).toContain('"service_tier":"default"');
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect([o.promptTokens, o.serviceTier]).toEqual([undefined, "default"]);
    const req = chatRequest.parse({ ...openaiBody, max_tokens: 16 });
    const gpt4o = priceFor("openai", "gpt-4o")!;
    const atDefault = worstCaseChatCost(req, gpt4o, "openai", "gpt-4o", undefined, "default");
    // What it reserved: no tier asked, so priority prices were possible until OpenAI named its tier.
    expect(worstCaseChatCost(req, gpt4o, "openai", "gpt-4o")).toBeGreaterThan(atDefault * 1.5);
    expect(o.costUsd).toBeCloseTo(atDefault, 9);
  });
});

describe("Gemini embeddings, which Gemini does not count", () => {
  const embed = async (key: string) => {
    const res = await fetch(`${h.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "ge/gemini-embedding-001", input: ["alpha", "beta gamma"] }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { usage: { prompt_tokens: number } };
  };
  // The upper bound: UTF-8 bytes plus 4 per input (5 + 4 + 10 + 4), at $0.15 per 1M (price table).
  const bound = 23;

  it.each([
    ["without a budget", PLAIN],
    ["under a budget (its reservation, the same bound)", BOUNDED],
  ])("are billed at their upper bound %s, never at $0", async (_, key) => {
    const body = await embed(key);
    // The caller sees what Gemini said: nothing counted, and no estimate.
    expect(body.usage.prompt_tokens).toBe(0);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ promptTokens: bound, usagePartial: true });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo((bound * 0.15) / 1e6, 12);
  });
});

describe("embeddings from a provider that has none, under a budget", () => {
  it("are refused as such, not as unpriced (which no price would mend)", async () => {
    const res = await fetch(`${h.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOUNDED}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "an/no-such-price", input: "x" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "embeddings_not_supported", param: "model" } });
  });
});

describe("OpenAI-compatible embeddings without usage", () => {
  it("are billed at their upper bound, never at $0, and the caller sees nothing counted", async () => {
    h.openai.enqueueScripts({ usageStyle: "none" });
    const res = await fetch(`${h.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOUNDED}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "oa/text-embedding-3-small", input: ["alpha", "beta gamma"] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(0);
    await expect.poll(() => h.outcomes.length).toBe(1);
    // The bound: UTF-8 bytes plus 4 per input (5 + 4 + 10 + 4), at $0.02 per 1M (price table).
    expect(h.outcomes[0]).toMatchObject({ promptTokens: 23, usagePartial: true });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo((23 * 0.02) / 1e6, 12);
  });
});

describe("embeddings whose provider reports a count no provider should", () => {
  it("are counted as billed, whole and never negative, by the outcome /metrics and EMF read", async () => {
    h.openai.enqueueScripts({ usage: { input: -3, output: 0 } });
    const res = await fetch(`${h.gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${PLAIN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "oa/text-embedding-3-small", input: ["alpha"] }),
    });
    expect(res.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ promptTokens: 0 });
  });
});

describe("an attempt that fails after its provider answered", () => {
  // The provider answered 200 and did the work, so it bills the call though its usage never arrived:
  // it costs its worst case (COST here), like a stream cut short. An answer of 503 bills nothing.
  it.each([
    ["a body cut off, then retried", { kind: "reset-mid", afterEvents: 0 } as const, {}, 200, 2],
    [
      "a stream broken before its first chunk, then retried",
      { kind: "reset-mid", afterEvents: 0 } as const,
      { stream: true },
      200,
      2,
    ],
    [
      "a stream broken after its role-only opening chunk, then retried",
      { kind: "reset-mid", afterEvents: 1 } as const,
      { stream: true },
      200,
      2,
    ],
    ["a body that is not JSON (not retried)", { kind: "invalid-json" } as const, {}, 502, 1],
    [
      "a stream whose first event is not JSON (not retried)",
      { kind: "invalid-json" } as const,
      { stream: true },
      502,
      1,
    ],
    ["not: a 503, then retried", { kind: "status", status: 503 } as const, {}, 200, 1],
    [
      "not: a stream whose provider sent an error event after its opener, the 500 it stands for, then retried",
      { kind: "error-mid", afterEvents: 1 } as const,
      { stream: true },
      200,
      1,
    ],
  ])("is billed too: %s", async (_, fault, extra, status, costs) => {
    h.openai.enqueueFaults(fault);
    // A faulted reply takes a script too: one each, so the served attempt reports exactly COST.
    h.openai.enqueueScripts(...exactUsage(2));
    const r = await chat(BOUNDED, extra);
    expect(r.status).toBe(status);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o.attempts[0]).toMatchObject({ outcome: "failed" });
    expect(o.attempts[0]?.answered ?? false).toBe(fault.kind !== "status" && fault.kind !== "error-mid");
    expect(o.costUsd).toBeCloseTo(costs * COST, 9);
    // On the nano-dollar grid the counters and rollups add: no float tail from summing attempts.
    expect(o.costUsd).toBe(usdOf(nanos(o.costUsd ?? 0)));
  });

  it("is billed with the input its provider had counted before it broke, where that passes the bound", async () => {
    // Anthropic counts 50 000 input tokens in message_start, then the stream breaks before any content.
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 1 });
    h.anthropic.enqueueScripts(
      { usage: { input: 50_000, output: 16 } },
      { usage: { input: 50_000, output: 16 } },
    );
    const body = {
      model: "an/claude-sonnet-4-5",
      stream: true,
      messages: [{ role: "user", content: "spend" }],
    };
    const r = await chat(BOUNDED, body);
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const failed = h.outcomes[0]!.attempts[0]!;
    expect(failed).toMatchObject({ outcome: "failed", answered: true });
    const withCounted = sonnetWorstCase(body, { input: 50_000 });
    expect(failed.costUsd).toBeCloseTo(withCounted, 9);
  });

  const CUT = { kind: "reset-mid", afterEvents: 0 } as const;

  it("is billed at its worst case when the caller leaves while the provider has the call", async () => {
    // OpenAI finishes a non-streamed completion after its client has gone, and bills it.
    h.openai.enqueueFaults({ kind: "delay", ms: 1_000 });
    const before = await remaining("bounded");
    const client = new AbortController();
    const request = fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOUNDED}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "oa/gpt-exact",
        max_tokens: 16,
        messages: [{ role: "user", content: "spend" }],
      }),
      signal: client.signal,
    }).catch(() => "left");
    await expect.poll(() => h.openai.requests.length).toBe(1);
    client.abort();
    expect(await request).toBe("left");
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ status: 499, errorCode: "client_closed" });
    expect(h.outcomes[0]?.attempts).toMatchObject([{ outcome: "failed", answered: true }]);
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(COST, 9);
    await expect.poll(() => remaining("bounded")).toBeCloseTo(before - COST, 9);
  });

  it("is reserved on top before the next call, and settles at its cost when the request fails", async () => {
    h.openai.enqueueFaults(CUT, CUT, CUT);
    const before = { spent: (await spendReport("bounded")).totals.costUsd, left: await remaining("bounded") };
    const r = await chat(BOUNDED, {});
    expect(r.status).toBe(502);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const o = h.outcomes[0]!;
    expect(o.attempts.length).toBeGreaterThan(1);
    expect(o.attempts.every((a) => a.answered)).toBe(true);
    expect(o.costUsd).toBeCloseTo(o.attempts.length * COST, 9);
    await expect
      .poll(async () => (await spendReport("bounded")).totals.costUsd)
      .toBeCloseTo(before.spent + o.attempts.length * COST, 9);
    // The counter holds exactly what was billed: every top-up settled, none left reserved.
    expect(await remaining("bounded")).toBeCloseTo(before.left - o.attempts.length * COST, 9);
  });

  it("stops the request when the budget cannot hold another call, so the limit holds", async () => {
    // $0.024 limit: the reservation (one COST) fits, the billed attempt plus another call does not.
    h.openai.enqueueFaults(CUT, CUT, CUT);
    const r = await chat(LOST, {});
    expect(r.status).toBe(429);
    const error = JSON.parse(r.text).error;
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toMatch(/an attempt that failed after its provider answered cost up to \$0\.0160/);
    expect(h.openai.requests.length).toBe(1);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]?.attempts).toMatchObject([{ outcome: "failed", answered: true }]);
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(COST, 9);
    await expect.poll(() => remaining("tiny-lost")).toBeCloseTo(0.5 * COST, 9);
    // The budget learned the spend: the next request no longer fits.
    expect((await chat(LOST, {})).status).toBe(429);
  });
});

describe("a provider that bills more than the worst case", () => {
  it("is settled to what it billed, so the budget refuses the next request", async () => {
    // 1 600 output tokens against max_tokens 16: the bound failed (a real provider cannot do this), and
    // the request cost $1.60 against a $0.016 reservation and a $0.16 limit.
    h.openai.enqueueScripts({ usage: { input: 40, output: 1600 } });
    const first = await chat(OVERBILLED, {});
    expect(first.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(1.6, 9);
    // Priced by the provider's `prices` override, not the shipped table, and the record says so.
    expect(h.outcomes[0]?.priceVersion).toBe("config");
    const next = await chat(OVERBILLED, {});
    expect(next.status).toBe(429);
    expect(JSON.parse(next.text).error.code).toBe("budget_exceeded");
    expect(JSON.parse(next.text).error.message).toMatch(/spent or reserved \$1\.6000/);
  });
});

describe("Anthropic's cache writes are priced above the input price", () => {
  it.each([
    ["a non-stream request", { stream: false }],
    ["a stream", { stream: true }],
  ])("prices %s at the 5-minute and 1-hour cache-write prices", async (_name, extra) => {
    h.anthropic.enqueueScripts({
      usage: { input: 5000, output: 100, cached: 1000, cacheWrite: 3000, cacheWrite1h: 1000 },
    });
    const r = await chat(PLAIN, { model: "an/claude-sonnet-4-5", ...extra });
    expect(r.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    // claude-sonnet-4-5 (price table): $3 input, $0.30 cache read, $3.75 cache write, $6 1-hour cache
    // write, $15 output per 1M; 1 000 of the 5 000 prompt tokens were neither read nor written.
    const expected = (1000 * 3 + 1000 * 0.3 + 2000 * 3.75 + 1000 * 6 + 100 * 15) / 1e6;
    expect(h.outcomes[0]).toMatchObject({
      promptTokens: 5000,
      cachedTokens: 1000,
      cacheWriteTokens: 3000,
      cacheWrite1hTokens: 1000,
    });
    expect(h.outcomes[0]?.costUsd).toBeCloseTo(expected, 9);
    if (!extra.stream) {
      expect(JSON.parse(r.text).usage.prompt_tokens_details).toEqual({
        cached_tokens: 1000,
        cache_write_tokens: 3000,
        cache_write_1h_tokens: 1000,
      });
    }
  });
});

describe("rate limits", () => {
  // Limits count per fixed minute window (core/ratelimit/port.ts): a test that ran across a window's end
  // would see its count start over. Each starts with at least 5 s of its window left.
  beforeEach(async () => {
    const left = WINDOW_MS - (Date.now() % WINDOW_MS);
    if (left < 5_000) await new Promise((r) => setTimeout(r, left + 20));
  });

  it("refuses the (N+1)-th request in a minute with Retry-After and OpenAI's rate-limit headers", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(LIMITED, { model: "oa/gpt-sim" });
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("3");
      seen.push(r.headers.get("x-ratelimit-remaining-requests") ?? "");
    }
    expect(seen).toEqual(["2", "1", "0"]);
    const refused = await chat(LIMITED, { model: "oa/gpt-sim" });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("charges tokens per minute at the worst case, corrects them to the provider's usage, and refuses past the limit", async () => {
    // Each request is charged its bound, 37 tokens ("spend" plus template allowances, and max_tokens 16),
    // and corrected to the 60 the provider reports. Uncorrected, a third request would fit in 150.
    h.openai.enqueueScripts(...Array.from({ length: 3 }, () => ({ usage: { input: 44, output: 16 } })));
    const first = await chat(TPM, {});
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("150");
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBe(150 - 37);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const second = await chat(TPM, {});
    expect(second.status).toBe(200);
    // 60 counted for the first request, 37 charged for this one.
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBe(150 - 60 - 37);
    await expect.poll(() => h.outcomes.length).toBe(2);
    const refused = await chat(TPM, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" });
    expect(JSON.parse(refused.text).error.message).toMatch(/tokens per minute on org 'tpm'/);
    expect(refused.headers.get("x-ratelimit-limit-tokens")).toBe("150");
    expect(refused.headers.get("x-ratelimit-remaining-tokens")).toBe("30");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("refuses a parameter no target takes before the minute's requests and the budget are consulted", async () => {
    const statuses: Array<[number, string]> = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(PICKY, { model: "an/claude-sonnet-4-5", logit_bias: { "50256": -100 } });
      statuses.push([res.status, JSON.parse(res.text).error.code]);
    }
    // Not 429 budget_exceeded (the budget fits nothing), nor rate_limit_exceeded after the first.
    expect(statuses).toEqual(Array.from({ length: 3 }, () => [400, "unsupported_parameter"]));
    await expect.poll(() => h.outcomes.length).toBe(3);
    // No target was tried: the spend report rolls them up under provider none.
    for (const o of h.outcomes) expect([o.provider, o.attempts]).toEqual([undefined, []]);
    expect(h.anthropic.requests).toHaveLength(0);
  });

  it("gives back the tokens of requests no provider served: refused by the gateway, or every call failed", async () => {
    // The harness's `oa` provider answers 500 on every call of this request (its retry included).
    h.openai.enqueueFaults(...Array.from({ length: 4 }, () => ({ kind: "status", status: 500 }) as const));
    const failed = await chat(TPM_UNSERVED, {});
    expect(failed.status).toBe(502);
    const refused = await chat(TPM_UNSERVED, { model: "an/claude-sim", logit_bias: { "50256": -100 } });
    expect(JSON.parse(refused.text).error.code).toBe("unsupported_parameter");
    await expect.poll(() => h.outcomes.length).toBe(2);
    // Faults the failed request's calls did not use are dropped.
    h.openai.reset();
    h.openai.enqueueScripts({ usage: { input: 44, output: 16 } });
    const next = await chat(TPM_UNSERVED, {});
    expect(next.status).toBe(200);
    // Only this request's own charge (37): the two before it left nothing behind.
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBe(150 - 37);
  });

  it("keeps what a stream cut short had counted when that passes its charge", async () => {
    // Anthropic counts 400 input tokens for "spend" in message_start; the stream then breaks.
    h.anthropic.enqueueScripts({ usage: { input: 400, output: 16 } });
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 4 });
    const cut = await chat(TPM_CUT, { model: "an/claude-sonnet-4-5", stream: true });
    expect(cut.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]).toMatchObject({ usagePartial: true, promptTokens: 400 });
    const next = await chat(TPM_CUT, {});
    expect(next.status).toBe(200);
    // At least the 400 counted, and this request's own charge of 37.
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(1_000 - 400 - 37);
  });

  it("keeps what a provider had counted of calls that all broke before their first chunk", async () => {
    // Both calls (the first and its retry) count 400 input tokens in message_start, then break.
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 1 }, { kind: "reset-mid", afterEvents: 1 });
    h.anthropic.enqueueScripts({ usage: { input: 400, output: 16 } }, { usage: { input: 400, output: 16 } });
    const broken = await chat(TPM_BROKEN, { model: "an/claude-sonnet-4-5", stream: true });
    expect(broken.status).toBe(502);
    await expect.poll(() => h.outcomes.length).toBe(1);
    const next = await chat(TPM_BROKEN, {});
    expect(next.status).toBe(200);
    // Both calls' 400, as the budget bills both, and this request's own charge.
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(1_000 - 800 - 37);
  });

  it("keeps the tokens of a call its provider billed before the retry that served", async () => {
    // The first call counts 400 input tokens in message_start and breaks; its retry is served (400 + 16).
    h.anthropic.enqueueFaults({ kind: "reset-mid", afterEvents: 1 });
    h.anthropic.enqueueScripts({ usage: { input: 400, output: 16 } }, { usage: { input: 400, output: 16 } });
    const retried = await chat(TPM_RETRIED, { model: "an/claude-sonnet-4-5", stream: true });
    expect(retried.status).toBe(200);
    await expect.poll(() => h.outcomes.length).toBe(1);
    expect(h.outcomes[0]!.attempts[0]).toMatchObject({ answered: true, countedInput: { input: 400 } });
    const next = await chat(TPM_RETRIED, {});
    expect(next.status).toBe(200);
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(
      5_000 - 400 - 416 - 37,
    );
  });

  it("counts no request the budget refused against the minute's limits", async () => {
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await chat(TINY_LIMITED, {});
      expect(r.status).toBe(429);
      codes.push(JSON.parse(r.text).error.code);
      // Refused before the minute was asked: it has no count of it to give.
      expect(r.headers.get("x-ratelimit-remaining-requests")).toBeNull();
    }
    expect(codes).toEqual(Array(4).fill("budget_exceeded"));
  });

  it("lets a key whose budget is spent hold none of its org's minute, even for a moment", async () => {
    h.openai.enqueueScripts(...exactUsage(1));
    expect((await chat(SPENDER, {})).status).toBe(200);
    // Two of the org's three requests are left. Ten from the spent key at once must not take them from
    // the other key, nor be refused for the rate they took among themselves.
    h.openai.enqueueScripts(...exactUsage(1));
    const [bystander, ...spent] = await Promise.all([
      chat(BYSTANDER, {}),
      ...Array.from({ length: 10 }, () => chat(SPENDER, {})),
    ]);
    expect(spent.map((r) => JSON.parse(r.text).error.code)).toEqual(Array(10).fill("budget_exceeded"));
    expect(bystander.status).toBe(200);
    expect(bystander.headers.get("x-ratelimit-remaining-requests")).toBe("1");
  });

  it("refuses at once, not to be retried, a request larger than the tokens-per-minute limit, calling no provider", async () => {
    const tooLarge = await chat(TPM, { max_tokens: 200 });
    expect(tooLarge.status).toBe(429);
    expect(JSON.parse(tooLarge.text).error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" });
    expect(JSON.parse(tooLarge.text).error.message).toMatch(
      /^Request too large for tokens per minute on org 'tpm': limit 150/,
    );
    expect(tooLarge.headers.get("x-should-retry")).toBe("false");
    expect(tooLarge.headers.get("retry-after")).toBeNull();
    expect(h.openai.requests).toHaveLength(0);
  });
});
