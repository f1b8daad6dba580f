import { createHash } from "node:crypto";
import { parseConfig } from "../../core/config/parse.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import type { ApiKeyRecord } from "../../core/keys/port.ts";

export type RegistryConfig = Pick<GatewayConfig, "providers" | "models" | "orgs">;

export const smallConfig: RegistryConfig = parseConfig({
  providers: [
    { id: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", region: "us" },
    { id: "mock", kind: "mock", models: ["echo"] },
  ],
  models: [
    { alias: "default", targets: [{ provider: "mock", model: "echo" }] },
    { alias: "smart", targets: [{ provider: "openai", model: "gpt-4o", timeouts: { idleMs: 5 } }] },
  ],
  orgs: [{ id: "acme", allowedRegions: ["eu"] }, { id: "default" }],
});

export const variant = (change: (c: RegistryConfig) => void): RegistryConfig => {
  const c = structuredClone(smallConfig);
  change(c);
  return c;
};

/**
 * 130 models of ~9 KB each (~1.2 MB): past a Scan's 1 MB page and past 100 items, so a store that reads
 * only the first page (or caps at 100 items, like BatchGetItem) returns an incomplete registry.
 */
export function bigConfig(models = 130, targetsPerModel = 36): RegistryConfig {
  const pad = "x".repeat(200);
  return parseConfig({
    providers: [{ id: "mock", kind: "mock" }],
    models: Array.from({ length: models }, (_, i) => ({
      alias: `model-${String(i).padStart(3, "0")}`,
      targets: Array.from({ length: targetsPerModel }, (_, j) => ({
        provider: "mock",
        model: `model-${i}-target-${j}-${pad}`,
        region: `region-${j}-europe-west-long-name`,
      })),
    })),
    orgs: [{ id: "acme" }],
  });
}

export const sha = (seed: string): string => createHash("sha256").update(seed).digest("hex");

export const key = (id: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id,
  org: "acme",
  role: "api",
  sha256: sha(`secret-of-${id}`),
  createdAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

/** ~8 KB of model names: 150 such keys hold ~1.2 MB, so counting them spans more than one Scan page. */
export const bulkyModels = (i: number): string[] =>
  Array.from({ length: 40 }, (_, j) => `provider-${j}/model-${i}-${j}-${"m".repeat(180)}`);
