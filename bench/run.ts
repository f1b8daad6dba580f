import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { buildRouter } from "../scripts/build-router.ts";
import { benchAudit } from "./audit.ts";
import { benchBudgets } from "./budgets.ts";
import { type Child, startChild } from "./children.ts";
import { coldImports, type ImportTarget } from "./cold-import.ts";
import { benchDynamo } from "./dynamo.ts";
import { benchFallback } from "./fallback.ts";
import { chatBody, median, once, percentile, runLoad, type Sample, type Target, USER_TEXT } from "./load.ts";
import { addedLatency, checkTargets, renderMarkdown, writeResults } from "./report.ts";
import type { Cell, PathName, Results } from "./types.ts";

/**
 * `npm run bench`: direct vs raw proxy vs gateway against one OpenAI simulator, each server in its own
 * process so the proxy's CPU can be read alone; then the router bundle size and its cold import time.
 * BENCH_SCALE=0.2 shortens a run; BENCH_CPU_PROF=1 writes a CPU profile of the gateway to dist/bench-prof
 * (gitignored; open it in Chrome DevTools or speedscope).
 */
const SCALE = Number(process.env.BENCH_SCALE ?? "1") || 1;
// Rounds interleave the three paths (in rotating order) so drift on a shared box hits them alike.
const ROUNDS = 6;
// Per path and scenario; the gateway has far more code for the JIT to settle than the raw proxy.
const WARMUP = 500;
const SCENARIOS = [
  { name: "non-stream", stream: false, concurrency: 1, requests: 6000 },
  { name: "stream", stream: true, concurrency: 1, requests: 3000 },
  { name: "non-stream", stream: false, concurrency: 16, requests: 12000 },
  { name: "stream", stream: true, concurrency: 16, requests: 6000 },
].map((s) => ({ ...s, requests: Math.max(ROUNDS, Math.round((s.requests * SCALE) / ROUNDS) * ROUNDS) }));
// Budgets on vs off (bench/budgets.ts): per key, in the same gateway process, after the main cells.
const BUDGET_SCENARIOS = [
  { name: "non-stream", stream: false, concurrency: 1, requests: 3000 },
  { name: "stream", stream: true, concurrency: 1, requests: 1500 },
  { name: "non-stream", stream: false, concurrency: 16, requests: 6000 },
  { name: "stream", stream: true, concurrency: 16, requests: 3000 },
].map((s) => ({ ...s, requests: Math.max(ROUNDS, Math.round((s.requests * SCALE) / ROUNDS) * ROUNDS) }));
const PATHS: PathName[] = ["direct", "raw-proxy", "gateway"];
const RESULTS = fileURLToPath(new URL("results/", import.meta.url));
const PROF_DIR = fileURLToPath(new URL("../dist/bench-prof", import.meta.url));

const expected = `Echo: ${USER_TEXT}`;

/**
 * The Lambda build imported as the Lambda runtime would: `awslambda` present and SST's links in the
 * environment (the entry point resolves its table names and secrets at init, as in AWS).
 */
const LAMBDA_IMPORT = (file: string): ImportTarget => ({
  file,
  preamble: "globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };",
  env: {
    AWS_REGION: "us-east-1",
    SST_RESOURCE_RegistryTable: JSON.stringify({ name: "registry" }),
    SST_RESOURCE_KeysTable: JSON.stringify({ name: "keys" }),
    SST_RESOURCE_BudgetsTable: JSON.stringify({ name: "budgets" }),
    SST_RESOURCE_Bus: JSON.stringify({ name: "bus" }),
    SST_RESOURCE_AuditQueue: JSON.stringify({ url: "http://127.0.0.1:1/000000000000/audit.fifo" }),
  },
});
type StreamChunk = { choices?: Array<{ delta?: { content?: string | null } }> };
type Completion = { choices?: Array<{ message?: { content?: string | null } }> };

/** One checked request per path and mode, so a broken path fails loudly instead of benchmarking errors. */
async function verify(name: PathName, target: Target): Promise<number> {
  const plain = await once(target, chatBody(target.model, false), true);
  const content = (JSON.parse(plain.text) as Completion).choices?.[0]?.message?.content;
  if (content !== expected)
    throw new Error(`${name}: unexpected non-stream reply ${plain.text.slice(0, 300)}`);
  const streamed = await once(target, chatBody(target.model, true), true);
  const events = streamed.text.split("\n").filter((l) => l.startsWith("data: "));
  const text = events
    .filter((l) => l !== "data: [DONE]")
    .map((l) => (JSON.parse(l.slice(6)) as StreamChunk).choices?.[0]?.delta?.content ?? "")
    .join("");
  if (text !== expected || events.at(-1) !== "data: [DONE]" || events.length < 22) {
    throw new Error(`${name}: unexpected stream (${events.length} events): ${streamed.text.slice(0, 300)}`);
  }
  return events.length;
}

interface Acc {
  samples: Sample[];
  errors: number;
  rps: number[];
  cpuUsPerReq: number[];
  rssBytes: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const bundle = await buildRouter();
  const log = (msg: string) =>
    process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  log(`router bundle: ${bundle.bytes} bytes`);

  const sim = await startChild("simulator", "simulator-process.ts", []);
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : [];
  const proxies: Record<Exclude<PathName, "direct">, Child> = {
    "raw-proxy": await startChild("raw proxy", "raw-proxy.ts", [sim.url]),
    gateway: await startChild("gateway", "gateway-process.ts", [sim.url], prof),
  };
  const pool = (url: string) =>
    new Pool(new URL(url).origin, { connections: 16, pipelining: 1, keepAliveTimeout: 60_000 });
  const targets: Record<PathName, Target> = {
    direct: { pool: pool(sim.url), model: "gpt-bench", headers: { authorization: "Bearer test-key" } },
    "raw-proxy": {
      pool: pool(proxies["raw-proxy"].url),
      model: "gpt-bench",
      headers: { authorization: "Bearer test-key" },
    },
    gateway: {
      pool: pool(proxies.gateway.url),
      model: "sim/gpt-bench",
      headers: { authorization: "Bearer bench-key" },
    },
  };
  for (const t of Object.values(targets)) t.headers["content-type"] = "application/json";

  let streamEvents = 0;
  for (const p of PATHS) streamEvents = await verify(p, targets[p]);

  log("warming up");
  for (const s of SCENARIOS) {
    for (const p of PATHS)
      await runLoad(targets[p], chatBody(targets[p].model, s.stream), WARMUP, s.concurrency);
  }

  const acc = new Map<string, Acc>();
  const key = (p: PathName, i: number) => `${p}#${i}`;
  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1}/${ROUNDS}`);
    for (const [i, s] of SCENARIOS.entries()) {
      const order = PATHS.map((_, j) => PATHS[(j + round + i) % PATHS.length]!);
      for (const p of order) {
        const child = p === "direct" ? undefined : proxies[p];
        const n = s.requests / ROUNDS;
        const before = await child?.usage();
        const res = await runLoad(targets[p], chatBody(targets[p].model, s.stream), n, s.concurrency);
        const after = await child?.usage();
        const a = acc.get(key(p, i)) ?? { samples: [], errors: 0, rps: [], cpuUsPerReq: [], rssBytes: 0 };
        a.samples.push(...res.samples);
        a.errors += res.errors;
        a.rps.push((n / res.wallMs) * 1000);
        if (before && after) {
          a.cpuUsPerReq.push((after.cpuUs - before.cpuUs) / n);
          a.rssBytes = after.rssBytes;
        }
        acc.set(key(p, i), a);
      }
    }
  }

  const cells: Cell[] = [];
  for (const [i, s] of SCENARIOS.entries()) {
    for (const p of PATHS) {
      const a = acc.get(key(p, i))!;
      cells.push({
        path: p,
        scenario: s.name,
        concurrency: s.concurrency,
        requests: s.requests,
        errors: a.errors,
        p50Ms: median(a.samples.map((x) => x.totalMs)),
        p99Ms: percentile(
          a.samples.map((x) => x.totalMs),
          99,
        ),
        ttfbP50Ms: median(a.samples.map((x) => x.ttfbMs)),
        rps: median(a.rps),
        cpuUsPerReq: a.cpuUsPerReq.length > 0 ? median(a.cpuUsPerReq) : null,
        rssMB: a.rssBytes > 0 ? a.rssBytes / 1024 / 1024 : null,
      });
    }
  }

  log("fallback with a failing primary");
  const fallback = await benchFallback(targets.gateway, Math.max(50, Math.round(400 * SCALE)));

  log("budgets on vs off");
  const budgets = await benchBudgets(
    targets.gateway,
    proxies.gateway,
    BUDGET_SCENARIOS,
    ROUNDS,
    Math.max(50, Math.round(300 * SCALE)),
    (scenario, concurrency) =>
      cells.find((c) => c.path === "raw-proxy" && c.scenario === scenario && c.concurrency === concurrency)
        ?.cpuUsPerReq ?? null,
  );

  // Free the cores before timing cold imports.
  await Promise.all(Object.values(targets).map((t) => t.pool.close()));
  await Promise.all([proxies.gateway.stop(), proxies["raw-proxy"].stop()]);
  await sim.stop();
  log("cold imports");
  const source = fileURLToPath(new URL("../functions/router.ts", import.meta.url));
  const [bundled, fromSource] = await coldImports([LAMBDA_IMPORT(bundle.file), { file: source }], 5);
  log("audit writer and verifier");
  const audit = await benchAudit(Math.max(500, Math.round(5_000 * SCALE)));
  log("DynamoDB adapters against DynamoDB Local");
  const dynamo = await benchDynamo();

  const partial: Omit<Results, "targets"> = {
    meta: {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? "unknown",
      cores: availableParallelism(),
      node: process.version,
      rounds: ROUNDS,
      streamEvents,
    },
    cells,
    added: addedLatency(cells),
    bundle: {
      file: "dist/router.mjs (functions/router-lambda.ts)",
      bytes: bundle.bytes,
      kb: bundle.bytes / 1024,
      topInputs: bundle.inputs.slice(0, 15),
    },
    dynamo,
    audit,
    fallback,
    budgets,
    coldImport: {
      bundleMs: bundled!.medianMs,
      sourceMs: fromSource!.medianMs,
      bundleSamplesMs: bundled!.samplesMs,
      sourceSamplesMs: fromSource!.samplesMs,
    },
  };
  const results: Results = { ...partial, targets: checkTargets(partial) };
  const md = renderMarkdown(results);
  await writeResults(RESULTS, results, md);
  process.stdout.write(`${md}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
