import type { Child } from "./children.ts";
import { chatBody, median, runLoad, type Target } from "./load.ts";

/**
 * What budgets cost in portable mode: the same priced requests (`sim/gpt-4o`, in the shipped price table)
 * through the same gateway process with `bench-key` (org `default`, no budget) and with a key of an org
 * that has a generous daily budget. Both publish an `llm.usage` event per request to the SQLite outbox,
 * which the cost aggregator consumes in-process; the budgeted key adds the reservation before the call
 * (worst-case estimate, DEFAULT_MAX_OUTPUT_TOKENS sent upstream), its settlement to the reported usage
 * afterwards, and the aggregator's budget-threshold checks. CPU is read after the event bus has drained,
 * so each batch pays for the deliveries it queued.
 */
export const BUDGET_ORG = "bench-budgeted";
export const BUDGETED_KEY = "sk-gw-bench-budgeted";
/** The bench gateway's admin key: GET /metrics, like the admin API, takes only admin keys. */
export const BENCH_ADMIN_KEY = "sk-gw-bench-admin";
export const BUDGET_MODEL = "sim/gpt-4o";
const BUDGET_USD = 1_000_000;

export interface BudgetScenario {
  name: string;
  stream: boolean;
  concurrency: number;
  /** Per key, over all rounds. */
  requests: number;
}

export interface BudgetSide {
  p50Ms: number;
  p99Ms: number;
  /** Gateway process CPU per request, median over rounds. */
  cpuUsPerReq: number;
}

export interface BudgetRow {
  scenario: string;
  concurrency: number;
  requests: number;
  off: BudgetSide;
  on: BudgetSide;
  addedP50Ms: number;
  addedCpuUsPerReq: number;
  /** Budgets-on CPU per request ÷ the raw proxy's (main results cell of the same scenario). */
  cpuRatioVsRaw: number;
}

export interface BudgetBench {
  model: string;
  rows: BudgetRow[];
  /** What the budgeted org spent during the run, read back from GET /metrics (its budget gauge). */
  spentUsd: number;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p99 = (xs: number[]) => sorted(xs)[Math.max(0, Math.ceil(0.99 * xs.length) - 1)] ?? Number.NaN;

export async function benchBudgets(
  gateway: Target,
  child: Child,
  scenarios: BudgetScenario[],
  rounds: number,
  warmup: number,
  rawCpuUsPerReq: (scenario: string, concurrency: number) => number | null,
): Promise<BudgetBench> {
  const keys = {
    off: { ...gateway, model: BUDGET_MODEL },
    on: {
      ...gateway,
      model: BUDGET_MODEL,
      headers: { ...gateway.headers, authorization: `Bearer ${BUDGETED_KEY}` },
    },
  };
  const rows: BudgetRow[] = [];
  for (const s of scenarios) {
    const body = chatBody(BUDGET_MODEL, s.stream);
    for (const t of Object.values(keys)) await runLoad(t, body, warmup, s.concurrency);
    const acc = {
      off: { ms: [] as number[], cpu: [] as number[] },
      on: { ms: [] as number[], cpu: [] as number[] },
    };
    const n = Math.max(1, Math.round(s.requests / rounds));
    for (let round = 0; round < rounds; round++) {
      // Alternate which key goes first, so drift on a shared box hits both alike.
      const order = round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const);
      for (const side of order) {
        const before = await child.usage({ drain: true });
        const res = await runLoad(keys[side], body, n, s.concurrency);
        const after = await child.usage({ drain: true });
        if (res.errors > 0)
          throw new Error(
            `budgets ${side} ${s.name} c=${s.concurrency}: ${res.errors} of ${n} requests failed`,
          );
        acc[side].ms.push(...res.samples.map((x) => x.totalMs));
        acc[side].cpu.push((after.cpuUs - before.cpuUs) / n);
      }
    }
    const side = (k: "off" | "on"): BudgetSide => ({
      p50Ms: median(acc[k].ms),
      p99Ms: p99(acc[k].ms),
      cpuUsPerReq: median(acc[k].cpu),
    });
    const off = side("off");
    const on = side("on");
    rows.push({
      scenario: s.name,
      concurrency: s.concurrency,
      requests: n * rounds,
      off,
      on,
      addedP50Ms: on.p50Ms - off.p50Ms,
      addedCpuUsPerReq: on.cpuUsPerReq - off.cpuUsPerReq,
      cpuRatioVsRaw: on.cpuUsPerReq / (rawCpuUsPerReq(s.name, s.concurrency) ?? Number.NaN),
    });
  }
  return { model: BUDGET_MODEL, rows, spentUsd: await spent(gateway) };
}

/** The budgeted org's spend so far: its budget minus the gauge, which proves the requests were priced. */
async function spent(gateway: Target): Promise<number> {
  const res = await gateway.pool.request({
    method: "GET",
    path: "/metrics",
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
  });
  const text = await res.body.text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("llm_gateway_budget_remaining_usd{") && l.includes(`id="${BUDGET_ORG}"`));
  const remaining = Number(line?.split(" ").at(-1));
  if (!Number.isFinite(remaining) || remaining >= BUDGET_USD)
    throw new Error(`budgets: the budgeted org's spend is not on GET /metrics: ${line ?? "no gauge"}`);
  return BUDGET_USD - remaining;
}
