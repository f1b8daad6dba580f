import type { AuditBench } from "./audit.ts";
import type { BudgetBench } from "./budgets.ts";
import type { DynamoBench } from "./dynamo.ts";
import type { FallbackRow } from "./fallback.ts";

/** The shape of bench/results/latest.json. */

export type PathName = "direct" | "raw-proxy" | "gateway";

export interface Cell {
  path: PathName;
  scenario: string;
  concurrency: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  ttfbP50Ms: number;
  /** Median over rounds. */
  rps: number;
  /** Proxy process CPU (user+system) per request, median over rounds; null for the direct path. */
  cpuUsPerReq: number | null;
  /** Proxy process RSS after its last measured batch. */
  rssMB: number | null;
}

export interface Added {
  scenario: string;
  concurrency: number;
  gatewayP50Ms: number;
  rawP50Ms: number;
  gatewayTtfbMs: number;
  rawTtfbMs: number;
  /** Gateway CPU per request ÷ raw proxy CPU per request. */
  cpuRatio: number;
}

export interface TargetCheck {
  name: string;
  value: string;
  limit: string;
  pass: boolean;
}

export interface Results {
  meta: { date: string; cpu: string; cores: number; node: string; rounds: number; streamEvents: number };
  cells: Cell[];
  added: Added[];
  bundle: { file: string; bytes: number; kb: number; topInputs: Array<{ path: string; bytes: number }> };
  dynamo: DynamoBench;
  audit: AuditBench;
  fallback: FallbackRow[];
  budgets: BudgetBench;
  coldImport: { bundleMs: number; sourceMs: number; bundleSamplesMs: number[]; sourceSamplesMs: number[] };
  targets: TargetCheck[];
}
