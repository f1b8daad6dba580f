import type { GatewayConfig, ModelConfig, OrgConfig, ProviderConfig } from "../config/types.ts";

/** An immutable view of the registry at one version. */
export interface RegistrySnapshot {
  readonly version: number;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelConfig>;
  readonly orgs: ReadonlyMap<string, OrgConfig>;
}

export type RegistryKind = "provider" | "model" | "org";

/** The document each kind stores: the config schema's own shape. */
export interface RegistryDocs {
  provider: ProviderConfig;
  model: ModelConfig;
  org: OrgConfig;
}

/** Who wrote an entry: the config file (replaced by the next `applyConfig`) or the admin API. */
export type RegistrySource = "config" | "admin";

export interface RegistryEntry<K extends RegistryKind = RegistryKind> {
  kind: K;
  id: string;
  doc: RegistryDocs[K];
  source: RegistrySource;
}

export const REGISTRY_KINDS: readonly RegistryKind[] = ["provider", "model", "org"];

/** The id of a document: models are keyed by alias, everything else by id. */
export function entryId<K extends RegistryKind>(kind: K, doc: RegistryDocs[K]): string {
  return kind === "model" ? (doc as ModelConfig).alias : (doc as ProviderConfig | OrgConfig).id;
}

/**
 * Makes an admin write conditional on the registry version its caller read before checking references
 * across entries (a model's providers, a key's org): a write that lands only if nothing else was written
 * since cannot slip past a concurrent delete of what it references, nor a delete past a new reference.
 * On a moved version the write throws VersionChangedError and writes nothing.
 */
export interface WriteGuard {
  ifVersion: number;
}

/**
 * Work that must commit with a write or not at all (the write's audit record): run inside the write's
 * transaction, after it, by a store that has one (SQLite); a throw undoes the write. A store without
 * (DynamoDB) never runs it: its caller records the change after the write.
 */
export type Within = () => void;

/**
 * Registry storage. `version` is bumped on every change so readers can cache a snapshot and re-check
 * cheaply. Entries seeded from the config file are replaced by the next `applyConfig`; entries created
 * through the admin API survive it unless the config declares the same id (the file wins).
 *
 * Every successful admin write (create, replace, remove) bumps the version together with or after its
 * entry, never before: a reader that sees the new version always finds the entry it covers.
 */
export interface RegistryStore {
  applyConfig(config: Pick<GatewayConfig, "providers" | "models" | "orgs">): Promise<void>;
  load(): Promise<RegistrySnapshot>;
  version(): Promise<number>;
  list<K extends RegistryKind>(kind: K): Promise<Array<RegistryEntry<K>>>;
  get<K extends RegistryKind>(kind: K, id: string): Promise<RegistryEntry<K> | undefined>;
  /** Insert with source "admin"; throws ConflictError when the id exists (whoever wrote it). */
  create<K extends RegistryKind>(
    kind: K,
    doc: RegistryDocs[K],
    guard?: WriteGuard,
    within?: Within,
  ): Promise<void>;
  /** Replace an existing entry (its source becomes "admin"); throws NotFoundError when it is missing. */
  replace<K extends RegistryKind>(
    kind: K,
    doc: RegistryDocs[K],
    guard?: WriteGuard,
    within?: Within,
  ): Promise<void>;
  /** Delete; false (and no version bump) when there was nothing to delete. */
  remove(kind: RegistryKind, id: string, guard?: WriteGuard, within?: Within): Promise<boolean>;
  /**
   * Bumps the version, guarded: how a write to another store (a new API key) that references a registry
   * entry makes itself visible to a concurrent guarded delete of that entry, which then reads again.
   */
  bump(guard: WriteGuard, within?: Within): Promise<void>;
}
