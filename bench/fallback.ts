import { chatBody, median, runLoad, type Target } from "./load.ts";

/**
 * What a failing primary costs: the same request through the gateway to the healthy simulator directly
 * (`sim/gpt-bench`) and through aliases whose first target fails, at concurrency 1. Same-target retries
 * are off for these aliases, so the figure is the fallback itself; with the default policy a 5xx primary
 * is retried once after up to 100 ms of jittered backoff first.
 */
export const FALLBACK_MODELS = ["fb-refused", "fb-503", "fb-open"] as const;

export interface FallbackRow {
  scenario: string;
  stream: boolean;
  p50Ms: number;
  addedP50Ms: number;
}

const LABELS: Record<string, string> = {
  "sim/gpt-bench": "healthy target, no fallback",
  "fb-refused": "primary refuses connections → fallback",
  "fb-503": "primary answers 503 → fallback",
  "fb-open": "primary's circuit open → skipped",
};

export async function benchFallback(gateway: Target, requests: number): Promise<FallbackRow[]> {
  const rows: FallbackRow[] = [];
  for (const stream of [false, true]) {
    const p50 = async (model: string) => {
      const t = { ...gateway, model };
      await runLoad(t, chatBody(model, stream), 100, 1);
      const res = await runLoad(t, chatBody(model, stream), requests, 1);
      if (res.errors > 0)
        throw new Error(`${model}: ${res.errors} of ${requests} requests failed; a fallback must not fail`);
      return median(res.samples.map((x) => x.totalMs));
    };
    const base = await p50("sim/gpt-bench");
    rows.push({ scenario: LABELS["sim/gpt-bench"]!, stream, p50Ms: base, addedP50Ms: 0 });
    for (const model of FALLBACK_MODELS) {
      const ms = await p50(model);
      rows.push({ scenario: LABELS[model]!, stream, p50Ms: ms, addedP50Ms: ms - base });
    }
  }
  return rows;
}
