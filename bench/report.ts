/** Derived numbers (added latency, CPU ratio), targets and the markdown rendering of the results. */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Added, Cell, PathName, Results, TargetCheck } from "./types.ts";

const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const signed = (n: number): string => `${n >= 0 ? "+" : ""}${f(n, 3)}`;

export function addedLatency(cells: Cell[]): Added[] {
  const find = (p: PathName, s: string, c: number) =>
    cells.find((x) => x.path === p && x.scenario === s && x.concurrency === c)!;
  return cells
    .filter((c) => c.path === "direct")
    .map((d) => {
      const raw = find("raw-proxy", d.scenario, d.concurrency);
      const gw = find("gateway", d.scenario, d.concurrency);
      return {
        scenario: d.scenario,
        concurrency: d.concurrency,
        gatewayP50Ms: gw.p50Ms - d.p50Ms,
        rawP50Ms: raw.p50Ms - d.p50Ms,
        gatewayTtfbMs: gw.ttfbP50Ms - d.ttfbP50Ms,
        rawTtfbMs: raw.ttfbP50Ms - d.ttfbP50Ms,
        cpuRatio: (gw.cpuUsPerReq ?? Number.NaN) / (raw.cpuUsPerReq ?? Number.NaN),
      };
    });
}

/** Targets, not gates: they are printed with a mark and never change the exit code. */
export function checkTargets(r: Omit<Results, "targets">): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const a of r.added) {
    const label = `${a.scenario} c=${a.concurrency}`;
    out.push({
      name: `Gateway CPU/req ≤ 2× raw proxy (${label})`,
      value: `${f(a.cpuRatio)}×`,
      limit: "2×",
      pass: a.cpuRatio <= 2,
    });
    if (a.concurrency !== 1) continue;
    out.push({
      name: `Added p50 ≤ 0.5 ms (${label})`,
      value: `${f(a.gatewayP50Ms, 3)} ms`,
      limit: "0.5 ms",
      pass: a.gatewayP50Ms <= 0.5,
    });
    out.push({
      name: `Added TTFB ≤ 0.5 ms (${label})`,
      value: `${f(a.gatewayTtfbMs, 3)} ms`,
      limit: "0.5 ms",
      pass: a.gatewayTtfbMs <= 0.5,
    });
  }
  for (const b of r.budgets.rows) {
    out.push({
      name: `Gateway CPU/req with budgets on ≤ 2× raw proxy (${b.scenario} c=${b.concurrency})`,
      value: `${f(b.cpuRatioVsRaw)}×`,
      limit: "2×",
      pass: b.cpuRatioVsRaw <= 2,
    });
  }
  out.push({
    name: "Router bundle ≤ 1 MB (1024 KB)",
    value: `${f(r.bundle.kb, 1)} KB`,
    limit: "1024 KB",
    pass: r.bundle.bytes <= 1024 * 1024,
  });
  out.push({
    name: "Cold import of dist/router.mjs ≤ 150 ms",
    value: `${f(r.coldImport.bundleMs, 1)} ms`,
    limit: "150 ms",
    pass: r.coldImport.bundleMs <= 150,
  });
  out.push({
    name: "Cold import of functions/router.ts ≤ 150 ms",
    value: `${f(r.coldImport.sourceMs, 1)} ms`,
    limit: "150 ms",
    pass: r.coldImport.sourceMs <= 150,
  });
  return out;
}

/** Column-aligned, so the table reads well on a terminal too. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function renderMarkdown(r: Results): string {
  const m = r.meta;
  return [
    `# Gateway benchmark — ${m.date}`,
    "",
    `CPU: ${m.cpu} × ${m.cores} cores · Node ${m.node} · ${m.rounds} interleaved rounds per cell · stream replies have ${m.streamEvents} SSE events`,
    "",
    "## Latency, throughput and proxy cost",
    "",
    table(
      [
        "Path",
        "Scenario",
        "c",
        "Requests",
        "Errors",
        "p50 ms",
        "p99 ms",
        "TTFB p50 ms",
        "req/s",
        "Proxy CPU µs/req",
        "Proxy RSS MB",
      ],
      r.cells.map((c) => [
        c.path,
        c.scenario,
        String(c.concurrency),
        String(c.requests),
        String(c.errors),
        f(c.p50Ms, 3),
        f(c.p99Ms, 3),
        f(c.ttfbP50Ms, 3),
        f(c.rps, 0),
        c.cpuUsPerReq === null ? "—" : f(c.cpuUsPerReq, 0),
        c.rssMB === null ? "—" : f(c.rssMB, 1),
      ]),
    ),
    "",
    "## Added over direct (p50 deltas) and CPU ratio",
    "",
    table(
      [
        "Scenario",
        "c",
        "Gateway +p50 ms",
        "Raw proxy +p50 ms",
        "Gateway +TTFB ms",
        "Raw proxy +TTFB ms",
        "CPU/req gateway ÷ raw",
      ],
      r.added.map((a) => [
        a.scenario,
        String(a.concurrency),
        signed(a.gatewayP50Ms),
        signed(a.rawP50Ms),
        signed(a.gatewayTtfbMs),
        signed(a.rawTtfbMs),
        `${f(a.cpuRatio)}×`,
      ]),
    ),
    "",
    "## Router bundle and cold import",
    "",
    table(
      ["Measure", "Value"],
      [
        [
          "Lambda bundle dist/router.mjs (functions/router-lambda.ts, esbuild, minified, @aws-sdk external)",
          `${f(r.bundle.kb, 1)} KB (${r.bundle.bytes} bytes)`,
        ],
        [
          "Cold import dist/router.mjs (Lambda init: clients built, links read), median",
          `${f(r.coldImport.bundleMs, 1)} ms (${r.coldImport.bundleSamplesMs.join(", ")})`,
        ],
        [
          "Cold import functions/router.ts, median",
          `${f(r.coldImport.sourceMs, 1)} ms (${r.coldImport.sourceSamplesMs.join(", ")})`,
        ],
      ],
    ),
    "",
    "## DynamoDB adapters against DynamoDB Local (loopback; a real table adds its own round trip)",
    "",
    table(
      ["Measure (p50)", "SQLite", "DynamoDB"],
      [
        [
          "Key lookup (findBySha256)",
          `${f(r.dynamo.keyLookupUs.sqlite, 0)} µs`,
          `${f(r.dynamo.keyLookupUs.dynamo, 0)} µs`,
        ],
        [
          "Registry version check",
          `${f(r.dynamo.versionCheckUs.sqlite, 0)} µs`,
          `${f(r.dynamo.versionCheckUs.dynamo, 0)} µs`,
        ],
        [
          "Router invocation, caches off (every request reads the store)",
          `${f(r.dynamo.invokeMs.sqliteUncached)} ms`,
          `${f(r.dynamo.invokeMs.dynamoUncached)} ms`,
        ],
        [
          "Router invocation, caches on (1 s TTL, as shipped)",
          "—",
          `${f(r.dynamo.invokeMs.dynamoCached)} ms`,
        ],
      ],
    ),
    "",
    "## Fallback with a failing primary (through the gateway, concurrency 1, p50)",
    "",
    table(
      ["Scenario", "Mode", "p50", "Added over the healthy target"],
      r.fallback.map((x) => [
        x.scenario,
        x.stream ? "stream" : "non-stream",
        `${f(x.p50Ms, 3)} ms`,
        signed(x.addedP50Ms),
      ]),
    ),
    "",
    `## Budgets on vs off (same gateway process, \`${r.budgets.model}\`, priced)`,
    "",
    "Both keys' requests are priced and publish an `llm.usage` event to the SQLite outbox, which the cost " +
      "aggregator consumes in the same process; budgets off still pays for that. Budgets on adds the " +
      "reservation of the worst-case cost before the call, its settlement to the reported usage after it, " +
      "and the aggregator's budget-threshold check. CPU is read once the event bus has drained. " +
      `The budgeted org spent $${f(r.budgets.spentUsd, 4)} during the run (from its GET /metrics gauge).`,
    "",
    table(
      [
        "Scenario",
        "c",
        "Requests per key",
        "p50 off ms",
        "p50 on ms",
        "Added p50 ms",
        "CPU off µs/req",
        "CPU on µs/req",
        "Added CPU µs/req",
        "CPU on ÷ raw proxy",
      ],
      r.budgets.rows.map((b) => [
        b.scenario,
        String(b.concurrency),
        String(b.requests),
        f(b.off.p50Ms, 3),
        f(b.on.p50Ms, 3),
        signed(b.addedP50Ms),
        f(b.off.cpuUsPerReq, 0),
        f(b.on.cpuUsPerReq, 0),
        `${b.addedCpuUsPerReq >= 0 ? "+" : ""}${f(b.addedCpuUsPerReq, 0)}`,
        `${f(b.cpuRatioVsRaw)}×`,
      ]),
    ),
    "",
    "## Audit trail (portable writer: SQLite, local ECDSA P-256 key, checkpoint every 100 entries)",
    "",
    table(
      ["Measure", "Value"],
      [
        ["Entries written on one chain (batches of 10)", String(r.audit.entries)],
        [
          "Writer throughput",
          `${f(r.audit.writerEntriesPerSec, 0)} entries/s (${r.audit.checkpoints} checkpoints signed)`,
        ],
        [
          "Offline verification (hashes, links, signatures)",
          `${f(r.audit.verifyEntriesPerSec, 0)} entries/s`,
        ],
      ],
    ),
    "",
    "## Targets (informational; the bench never fails on them)",
    "",
    table(
      ["Target", "Value", "Limit", ""],
      r.targets.map((t) => [t.name, t.value, t.limit, t.pass ? "✅ pass" : "❌ miss"]),
    ),
    "",
  ].join("\n");
}

/**
 * Writes latest.json and latest.md, then runs Biome's formatter on them: they are committed, and
 * `biome check .` must stay green whatever numbers a run produces.
 */
export async function writeResults(dir: string, results: Results, md: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files = [`${dir}latest.json`, `${dir}latest.md`];
  await writeFile(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files[1]!, md);
  const biome = fileURLToPath(new URL("../node_modules/.bin/biome", import.meta.url));
  await promisify(execFile)(biome, ["format", "--write", ...files]).catch((err: Error) => {
    process.stderr.write(`warning: could not format the results with Biome: ${err.message}\n`);
  });
}
