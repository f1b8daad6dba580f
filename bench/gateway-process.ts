import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../core/config/parse.ts";
import { sha256Hex } from "../core/keys/secret.ts";
import { createConsoleLog } from "../functions/local/console-log.ts";
import { startPortable } from "../functions/local/portable.ts";
import { startBrokenUpstream } from "./broken-upstream.ts";
import { BENCH_ADMIN_KEY, BUDGET_ORG, BUDGETED_KEY } from "./budgets.ts";
import { FALLBACK_MODELS } from "./fallback.ts";
import { failChild, serveChild } from "./ipc.ts";

/**
 * The gateway under test, alone in this process so its CPU time is its own: portable mode on an
 * ephemeral port, one OpenAI-kind provider `sim` pointing at the simulator. Usage: gateway-process.ts <sim URL>.
 */
try {
  const simUrl = process.argv[2] ?? "";
  const dataDir = await mkdtemp(join(tmpdir(), "gateway-bench-"));
  // parseConfig fills the schema defaults exactly as a config file would get them.
  const broken = await startBrokenUpstream();
  // Fallback scenarios (bench/fallback.ts): a primary that refuses connections, one that answers 503,
  // and one whose circuit opens, each in front of the healthy simulator. `sim` stays the plain path.
  const disarmed = { failureThreshold: 1_000_000, minimumRequests: 1_000_000 };
  const config = parseConfig({
    providers: [
      { id: "sim", kind: "openai", baseUrl: simUrl, apiKeyEnv: "SIM_KEY" },
      {
        id: "down",
        kind: "openai",
        baseUrl: "http://127.0.0.1:1/v1",
        apiKeyEnv: "SIM_KEY",
        breaker: disarmed,
      },
      { id: "broken", kind: "openai", baseUrl: `${broken.url}/v1`, apiKeyEnv: "SIM_KEY", breaker: disarmed },
      { id: "tripped", kind: "openai", baseUrl: `${broken.url}/v1`, apiKeyEnv: "SIM_KEY" },
    ],
    models: FALLBACK_MODELS.map((alias) => ({
      alias,
      retry: { retriesPerTarget: 0 },
      targets: [
        {
          provider: { "fb-refused": "down", "fb-503": "broken", "fb-open": "tripped" }[alias],
          model: "gpt-bench",
        },
        { provider: "sim", model: "gpt-bench" },
      ],
    })),
    // `bench-key` (the bootstrap key) belongs to `default`, the first org, which has no budget. The
    // budgets measurement (bench/budgets.ts) sends the same requests with a key of an org that has one.
    orgs: [{ id: "default" }, { id: BUDGET_ORG, budgets: [{ period: "day", limitUsd: 1_000_000 }] }],
    keys: [{ id: "bench-budgeted", org: BUDGET_ORG, sha256: sha256Hex(BUDGETED_KEY) }],
  });
  const gateway = await startPortable({
    config,
    env: { SIM_KEY: "test-key", GATEWAY_API_KEY: "bench-key", GATEWAY_ADMIN_KEY: BENCH_ADMIN_KEY },
    dataDir,
    port: 0,
    // The same log as `npm start`: a redacted JSON line per request on stdout (which the bench discards).
    log: createConsoleLog("llm-gateway"),
  });
  serveChild(
    gateway.url,
    async () => {
      await gateway.close();
      broken.close();
      await rm(dataDir, { recursive: true, force: true });
    },
    () => gateway.drainEvents(30_000),
  );
} catch (err) {
  failChild(err);
}
