import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { median } from "./load.ts";

/**
 * Cold import time of a module: a fresh Node process times `await import(file)` around nothing else,
 * so module loading, TS stripping (for sources) and top-level evaluation are all that is measured.
 */
function importOnce(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], (err, stdout, stderr) => {
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
export async function coldImports(files: string[], runs: number): Promise<ColdImport[]> {
  const samples = files.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, file] of files.entries()) samples[j]!.push(await importOnce(file));
  }
  return samples.map((s) => ({ medianMs: median(s), samplesMs: s.map((v) => Math.round(v * 10) / 10) }));
}
