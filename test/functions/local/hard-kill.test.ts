import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../core/keys/secret.ts";
import { type Simulator, startOpenAISimulator } from "../../simulators/index.ts";

const MAIN = join(import.meta.dirname, "../../../functions/local/main.ts");
const API_KEY = "sk-gw-hard-kill-test-key";
const ADMIN_KEY = "sk-gw-hard-kill-test-admin";
const running: ChildProcess[] = [];
const cleanup: Array<() => unknown> = [];

afterEach(async () => {
  for (const p of running.splice(0)) p.kill("SIGKILL");
  for (const c of cleanup.splice(0)) await c();
});

/** `npm start`'s entry point; resolves with its URL once it listens, and everything it printed. */
function start(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    });
    running.push(child);
    let output = "";
    const onData = (d: Buffer) => {
      output += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

const spendReport = async (url: string) => {
  const day = new Date().toISOString().slice(0, 10);
  const res = await fetch(`${url}/admin/spend?from=${day}&to=${day}&org=acme`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  return (await res.json()) as { totals: { costUsd: number; requests: number } };
};

describe("a gateway killed with requests in flight (kill -9)", () => {
  it("charges their reservations at its next start: the spend report and the budget counter agree, and a sensitive org's chain records them", async () => {
    const sim: Simulator = await startOpenAISimulator();
    cleanup.push(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), "gw-hard-kill-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "gateway.json");
    writeFileSync(
      config,
      JSON.stringify({
        providers: [{ id: "oa", kind: "openai", baseUrl: sim.url, apiKeyEnv: "OA_KEY" }],
        models: [{ alias: "smart", targets: [{ provider: "oa", model: "gpt-4o" }] }],
        orgs: [{ id: "acme", sensitive: true, budgets: [{ period: "day", limitUsd: 100 }] }],
        keys: [{ id: "k1", org: "acme", sha256: sha256Hex(API_KEY) }],
      }),
    );
    const env = {
      GATEWAY_DATA_DIR: join(dir, "data"),
      GATEWAY_CONFIG: config,
      GATEWAY_ADMIN_KEY: ADMIN_KEY,
      OA_KEY: "test-key",
    };
    const first = await start(env);
    // A stream the provider stops answering after three events: in flight when the gateway dies.
    sim.enqueueFaults({ kind: "hang-mid", afterEvents: 3 });
    const res = await fetch(`${first.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "smart",
        stream: true,
        max_tokens: 1000,
        messages: [{ role: "user", content: "Tell me a long story." }],
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    await reader.read().catch(() => undefined);

    const second = await start(env);
    await expect
      .poll(async () => (await spendReport(second.url)).totals.requests, { timeout: 5_000 })
      .toBe(1);
    const { totals } = await spendReport(second.url);
    // What it reserved: the prompt and 1 000 output tokens at gpt-4o's prices, never $0.
    expect(totals.costUsd).toBeGreaterThan(0.01);
    expect(second.output()).toContain(
      "reservations left unsettled by the last stop: charged at their reservations",
    );
    // /metrics counts the charge too, though no request of the new process made it.
    const metrics = await (
      await fetch(`${second.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    const charged = /llm_gateway_cost_usd_total\{org="acme",model="other",provider="none"\} (\S+)/.exec(
      metrics,
    );
    expect(Number(charged?.[1])).toBeCloseTo(totals.costUsd, 9);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));

    const db = new DatabaseSync(join(dir, "data", "gateway.sqlite"), { readOnly: true });
    cleanup.unshift(() => db.close());
    const counter = db
      .prepare("SELECT SUM(spent_nanos) AS n FROM budget_counters WHERE scope = 'org' AND id = 'acme'")
      .get() as { n: number };
    expect(counter.n / 1e9).toBeCloseTo(totals.costUsd, 9);
    expect(db.prepare("SELECT count(*) AS n FROM budget_reservations WHERE settled = 0").get()).toEqual({
      n: 0,
    });
    // Every request of a sensitive org is in its chain: this one as what is known of it at the start.
    const records = (
      db.prepare("SELECT record FROM audit_entries WHERE chain = 'acme'").all() as Array<{ record: string }>
    ).map((r) => JSON.parse(r.record));
    expect(records).toEqual([
      expect.objectContaining({
        kind: "request",
        actor: "k1",
        data: expect.objectContaining({
          endpoint: "/v1/chat/completions",
          model: "smart",
          status: 500,
          errorCode: "interrupted",
        }),
      }),
    ]);
    expect(records[0].data.costUsd).toBeCloseTo(totals.costUsd, 9);
  });
});
