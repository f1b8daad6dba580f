import type { BudgetConfig, RateLimitConfig } from "../config/types.ts";
import type { Within } from "../registry/port.ts";

/** An API key as stored: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  org: string;
  role: "api" | "admin";
  name?: string | undefined;
  sha256: string;
  /** Models (aliases or `provider/model`) this key may use; undefined means all. */
  models?: string[] | undefined;
  /** Spend limits of this key (at most one per period), on top of its org's. */
  budgets?: BudgetConfig[] | undefined;
  /** Requests and tokens per minute for this key, on top of its org's. */
  rateLimits?: RateLimitConfig | undefined;
  /**
   * `config`: declared in the config file, so a later start whose file no longer declares it removes it
   * (deleting a leaked key from the file revokes it). Absent: made by the admin API or the bootstrap.
   */
  source?: "config" | undefined;
  createdAt: string;
}

export interface KeyStore {
  findBySha256(sha256: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Insert or replace by id; a replaced key's old hash stops authenticating. Throws ConflictError when
   * the hash belongs to another id.
   */
  put(record: ApiKeyRecord): Promise<void>;
  /**
   * Insert only: throws ConflictError when the id or the hash is already taken. `within` (as in the
   * registry's writes, registry/port.ts) commits with the insert, where the store can.
   */
  create(record: ApiKeyRecord, within?: Within): Promise<void>;
  /**
   * Replaces the settings (name, models, budgets, rate limits) of the key with this id and hash, if it
   * is still as `previous` (its hash and settings): false when it was deleted, given another hash or
   * edited meanwhile. So an edit racing a revocation never brings the revoked key back, and two edits
   * racing never lose one (the caller reads again and merges its edit into what it finds).
   */
  update(record: ApiKeyRecord, previous: ApiKeyRecord, within?: Within): Promise<boolean>;
  count(role?: ApiKeyRecord["role"]): Promise<number>;
  /** Every key, sorted by id. */
  list(): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Deletes the key; its hash stops authenticating at once. False when there was no such id. */
  remove(id: string, within?: Within): Promise<boolean>;
}
