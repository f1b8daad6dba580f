import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../core/config/parse.ts";
import { silentLog } from "../core/log.ts";
import { startPortable } from "../functions/local/portable.ts";
import { failChild, serveChild } from "./ipc.ts";

/**
 * The gateway under test, alone in this process so its CPU time is its own: portable mode on an
 * ephemeral port, one OpenAI-kind provider `sim` pointing at the simulator. Usage: gateway-process.ts <sim URL>.
 */
try {
  const simUrl = process.argv[2] ?? "";
  const dataDir = await mkdtemp(join(tmpdir(), "gateway-bench-"));
  // parseConfig fills the schema defaults exactly as a config file would get them.
  const config = parseConfig({
    providers: [{ id: "sim", kind: "openai", baseUrl: simUrl, apiKeyEnv: "SIM_KEY" }],
  });
  const gateway = await startPortable({
    config,
    env: { SIM_KEY: "test-key", GATEWAY_API_KEY: "bench-key" },
    dataDir,
    port: 0,
    log: silentLog,
  });
  serveChild(gateway.url, async () => {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });
} catch (err) {
  failChild(err);
}
