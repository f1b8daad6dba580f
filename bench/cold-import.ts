import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { median } from "./load.ts";

/**
 * Cold import time of a module: a fresh Node process times `await import(file)` around nothing else,
 * so module loading, TS stripping (for sources) and top-level evaluation are all that is measured.
 */
export interface ImportTarget {
  file: string;
  /** Runs before the clock starts: what the Lambda runtime has in place before it loads a handler. */
  preamble?: string;
  env?: Record<string, string>;
}

function importOnce(target: ImportTarget): Promise<number> {
  const { file } = target;
  const script = `${target.preamble ?? ""}\nconst t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const env = { ...process.env, ...target.env };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { env }, (err, stdout, stderr) => {
      const ms = Number(stdout);
      if (err || !Number.isFinite(ms))
        reject(new Error(`import of ${file} failed: ${stderr || err?.message}`));
      else resolve(ms);
    });
  });
}

export interface ColdImport {
  medianMs: number;
  samplesMs: number[];
}

/** `runs` spawns per file, alternating between the files so a noisy moment hits both alike. */
export async function coldImports(targets: ImportTarget[], runs: number): Promise<ColdImport[]> {
  const samples = targets.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, target] of targets.entries()) samples[j]!.push(await importOnce(target));
  }
  return samples.map((s) => ({ medianMs: median(s), samplesMs: s.map((v) => Math.round(v * 10) / 10) }));
}
