import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";

/** An immutable view of the registry at one version. */
export interface RegistrySnapshot {
  readonly version: number;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelConfig>;
  readonly orgs: ReadonlyMap<string, OrgConfig>;
}

/**
 * Registry storage. `version` is bumped on every change so readers can cache a snapshot and re-check
 * cheaply. Entries seeded from the config file are replaced by the next `applyConfig`; entries created
 * through the admin API survive it.
 */
export interface RegistryStore {
  applyConfig(config: Pick<GatewayConfig, "providers" | "models" | "orgs">): Promise<void>;
  load(): Promise<RegistrySnapshot>;
  version(): Promise<number>;
}
