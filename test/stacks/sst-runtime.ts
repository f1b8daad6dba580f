/**
 * Runs the real sst.config.ts and SST components under Pulumi mocks, the way the `sst` CLI runs them:
 * - the globals the CLI defines when it bundles the program ($app, $dev, $cli) or injects from
 *   .sst/platform/src/shim/run.js ($util, $interpolate, $jsonParse, $transform, ...), plus `sst` and the
 *   provider namespace `aws` (declared in .sst/platform/config.d.ts);
 * - the program wrapped in .sst/platform/src/auto/run.ts (removal/tag transformations), as the CLI does;
 * - a local stand-in for the CLI's JSON-RPC server (SST_SERVER), which components call to bundle a
 *   handler ("Runtime.Build") and to find the bootstrap bucket ("Provider.Aws.Bootstrap"). The bundler is
 *   not under test, and the function sources are not ours: the stand-in returns a placeholder bundle.
 * Needs `npm run sst:install` first (.sst/ is generated, not committed).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pulumi from "../../.sst/platform/node_modules/@pulumi/pulumi/index.js";
import { deploymentFor } from "../../stacks/regions.ts";
import { createRecorder, type Recorder } from "./aws-mocks.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PLATFORM = path.join(ROOT, ".sst/platform");

export interface Synth extends Recorder {
  readonly outputs: Record<string, unknown>;
}

interface BuildInput {
  functionID: string;
  handler: string;
}

function startRpcServer(work: string): Promise<Server> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const { method, params } = JSON.parse(body) as { method: string; params: [BuildInput] };
      let result: unknown;
      if (method === "Provider.Aws.Bootstrap") {
        result = {
          asset: "sst-asset-mock",
          state: "sst-state-mock",
          assetEcrRegistryId: "",
          assetEcrUrl: "",
        };
      } else if (method === "Runtime.Build") {
        const { functionID, handler } = params[0];
        const out = path.join(work, "artifacts", `${functionID}-src`);
        const file = path.join(out, `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, "// placeholder bundle: sst's esbuild builds the real one at deploy time\n");
        result = { handler, out, errors: [], sourcemaps: [] };
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(result === undefined ? { error: `rpc: can't find ${method}` } : { result }));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function installGlobals(app: Record<string, unknown>, work: string): Promise<void> {
  const component = await import("../../.sst/platform/src/components/component.ts");
  const { Link } = await import("../../.sst/platform/src/components/link.ts");
  const { $config } = await import("../../.sst/platform/src/config.ts");
  Object.assign(globalThis, {
    $app: app,
    $dev: false,
    $cli: {
      command: "deploy",
      rpc: process.env.SST_SERVER,
      paths: { home: work, root: ROOT, work, platform: PLATFORM },
      state: { version: {} },
    },
    $secrets: {},
    $config,
    $linkable: Link.linkable,
    $util: pulumi,
    $output: pulumi.output,
    $resolve: pulumi.all,
    $interpolate: pulumi.interpolate,
    $concat: pulumi.concat,
    $jsonParse: pulumi.jsonParse,
    $jsonStringify: pulumi.jsonStringify,
    $asset: component.$asset,
    $transform: component.$transform,
    aws: await import("../../.sst/platform/node_modules/@pulumi/aws/index.js"),
  });
  Object.assign(globalThis, { sst: await import("../../.sst/platform/src/components/index.ts") });
}

/** Deploy `stage` against mocks: returns every resource and provider call the program made. */
export async function synthesize(stage: string, env: Record<string, string> = {}): Promise<Synth> {
  const { region } = deploymentFor(stage);
  const work = mkdtempSync(path.join(tmpdir(), "sst-mock-"));
  const server = await startRpcServer(work);
  Object.assign(process.env, env, {
    SST_SERVER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    SST_SECRET_OpenaiApiKey: "sk-test-openai",
    SST_SECRET_AnthropicApiKey: "sk-test-anthropic",
    SST_SECRET_GeminiApiKey: "test-gemini",
  });
  const recorder = createRecorder(region);
  try {
    await pulumi.runtime.setMocks(recorder, "llm-gateway", stage, false);
    // `$config` must exist before sst.config.ts evaluates; `$app` is filled from app() right after.
    const app: Record<string, unknown> = { name: "llm-gateway", stage, protect: false };
    await installGlobals(app, work);
    const config = (await import("../../sst.config.ts")).default;
    const appConfig = await config.app({ stage });
    Object.assign(app, { removal: appConfig.removal ?? "retain", providers: appConfig.providers });
    const { run } = await import("../../.sst/platform/src/auto/run.ts");
    const program = config.run ?? (async () => ({}));
    const outputs = await pulumi.runtime.runInPulumiStack(() => run(program));
    await pulumi.runtime.disconnect();
    return { ...recorder, resources: recorder.resources, calls: recorder.calls, outputs: outputs ?? {} };
  } finally {
    server.close();
  }
}
