import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * `npm run build:router`: bundles the router Lambda into one ESM file (dist/router.mjs). Everything is
 * inlined except Node built-ins and `@aws-sdk/*`, which the Lambda Node runtime already ships; a smaller
 * file means a faster cold start, so the bench tracks its size.
 */
const root = fileURLToPath(new URL("..", import.meta.url));

export const ROUTER_BUNDLE = fileURLToPath(new URL("../dist/router.mjs", import.meta.url));

export interface BundleInfo {
  file: string;
  bytes: number;
  /** Input file → bytes it contributes to the output, largest first (from esbuild's metafile). */
  inputs: Array<{ path: string; bytes: number }>;
}

export async function buildRouter(): Promise<BundleInfo> {
  const result = await build({
    absWorkingDir: root,
    // The router Lambda's real entry point: handler, DynamoDB stores, undici transport, Powertools.
    entryPoints: ["functions/router-lambda.ts"],
    outfile: ROUTER_BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    metafile: true,
    external: ["node:*", "@aws-sdk/*"],
    // Bundled CommonJS deps (undici) call require() for built-ins; ESM has no require, so give it one.
    banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
    logLevel: "warning",
  });
  const output = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {})
    .map(([path, info]) => ({ path, bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return { file: ROUTER_BUNDLE, bytes: (await stat(ROUTER_BUNDLE)).size, inputs };
}

if (import.meta.main) {
  const info = await buildRouter();
  console.log(`${info.file}: ${info.bytes} bytes (${(info.bytes / 1024).toFixed(1)} KB)`);
  for (const i of info.inputs.slice(0, 10)) console.log(`  ${String(i.bytes).padStart(8)}  ${i.path}`);
}
