import { performance } from "node:perf_hooks";
import type { Pool } from "undici";

/** One way to reach the simulator: a keep-alive pool to some origin plus what that origin expects. */
export interface Target {
  pool: Pool;
  headers: Record<string, string>;
  model: string;
}

export interface Sample {
  /** Request start → last body byte. */
  totalMs: number;
  /** Request start → first body byte (the first SSE event when streaming). */
  ttfbMs: number;
}

export interface LoadResult {
  samples: Sample[];
  wallMs: number;
  errors: number;
}

export const CHAT_PATH = "/v1/chat/completions";

/** A 100-character user message: echoed back in 4-character chunks, that is 27 content events. */
export const USER_TEXT =
  "The quick brown fox jumps over the lazy dog while the bench counts every byte it sends. 0123456789ab";

export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, stream, messages: [{ role: "user", content: USER_TEXT }] });
}

/** One request; resolves with its timings and the body (kept only when `keep` is set, for checks). */
export async function once(target: Target, body: string, keep = false): Promise<Sample & { text: string }> {
  const t0 = performance.now();
  const res = await target.pool.request({ method: "POST", path: CHAT_PATH, headers: target.headers, body });
  let ttfbMs = -1;
  const parts: Buffer[] = [];
  // Plain 'data' events rather than async iteration: less load-generator CPU on a 2-core box.
  await new Promise<void>((resolve, reject) => {
    res.body.on("data", (chunk: Buffer) => {
      if (ttfbMs < 0) ttfbMs = performance.now() - t0;
      if (keep) parts.push(chunk);
    });
    res.body.once("end", resolve);
    res.body.once("error", reject);
  });
  const totalMs = performance.now() - t0;
  const text = Buffer.concat(parts).toString("utf8");
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return { totalMs, ttfbMs, text };
}

/** `count` requests from `concurrency` closed-loop workers (each sends its next request on completion). */
export async function runLoad(
  target: Target,
  body: string,
  count: number,
  concurrency: number,
): Promise<LoadResult> {
  const samples: Sample[] = [];
  let errors = 0;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started++ < count) {
      try {
        const { totalMs, ttfbMs } = await once(target, body);
        samples.push({ totalMs, ttfbMs });
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { samples, wallMs: performance.now() - t0, errors };
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: number[]): number => percentile(values, 50);
