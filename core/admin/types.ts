import type { AuditStore, Signer } from "../audit/port.ts";
import type { SpendStore } from "../budgets/spend-port.ts";
import type { ApiKeyRecord, KeyStore } from "../keys/port.ts";
import type { Log } from "../log.ts";
import type { RegistryKind, RegistryStore } from "../registry/port.ts";

export type AdminKind = RegistryKind | "key";
export type AdminAction = "create" | "replace" | "delete";

/**
 * One successful admin write, as the audit chain (issue #6) will record it. `before`/`after` are the
 * entry as the admin API shows it: key hashes and secrets are never in them.
 */
export interface AdminChange {
  requestId: string;
  actorKeyId: string;
  action: AdminAction;
  kind: AdminKind;
  id: string;
  before: unknown;
  after: unknown;
}

export interface AdminDeps {
  keys: KeyStore;
  registry: RegistryStore;
  /** The cost aggregator's rollups, for `GET /admin/spend`. */
  spend?: SpendStore | undefined;
  /** Chain storage and the checkpoint signer's public key, for `GET /admin/audit/{chain}` exports. */
  audit?: { store: AuditStore; signer: Pick<Signer, "keyId" | "publicKeyPem"> } | undefined;
  log: Log;
  newId(): string;
  now(): number;
  /** Waits between a guarded write's rounds (references.ts), with `random`'s jitter. */
  sleep(ms: number): Promise<void>;
  random(): number;
  /**
   * Called after each successful write, once the store has it. The seam for the audit chain; a failing
   * hook is logged, not reported to the admin, because the change itself has already happened.
   */
  onChange?(change: AdminChange): void | Promise<void>;
  /**
   * Records a change inside its store write's transaction, where the store has one (portable mode's
   * SQLite: the audit record commits with the write, so no kill can come between them). `onChange`
   * still follows; the audit queue keeps an event id once, so the two make one record.
   */
  recordWithin?(change: AdminChange): void;
  /**
   * Called when a request fails authentication (no key, a wrong one: 401) or brings an API key (403),
   * for the audit chain's `auth.failure`: guessing admin keys is the attempt that matters most.
   */
  onAuthFailure?(failure: {
    requestId: string;
    /** `/admin`, or `/metrics` when the host's metrics endpoint reports through the same hook. */
    endpoint: string;
    headers: Record<string, string>;
  }): void | Promise<void>;
}

/** What a route handler gets: the caller, the path id (item routes) and the parsed body (writes). */
export interface AdminRequest {
  deps: AdminDeps;
  requestId: string;
  actor: ApiKeyRecord;
  id: string;
  body: unknown;
  /** Query string parameters (single-valued). */
  query: Record<string, string>;
}

/** A handler's answer; the dispatcher renders it (JSON, or no body for 204). */
export interface AdminResult {
  status: 200 | 201 | 204;
  body?: unknown;
}

export interface AdminHandler {
  /** Whether the route reads a JSON body (POST, PUT, PATCH). */
  body: boolean;
  /** Whether the route reads query parameters (lists, the spend report); elsewhere any one is a 400. */
  query?: true;
  run(req: AdminRequest): Promise<AdminResult>;
}

export type AdminMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type AdminMethods = Partial<Record<AdminMethod, AdminHandler>>;

/** A collection (`/admin/providers`) and its items (`/admin/providers/{id}`). */
export interface AdminResource {
  collection: AdminMethods;
  item: AdminMethods;
}
