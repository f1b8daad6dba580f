import { randomUUID } from "node:crypto";
import { configChangeRecords, keyChangeRecords } from "../../core/audit/changes.ts";
import type { AuditQueue } from "../../core/audit/port.ts";
import { stampBudgets } from "../../core/budgets/counters.ts";
import { ConfigError } from "../../core/config/parse.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import { bootstrapKeys, type CreatedKey } from "../../core/keys/bootstrap.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import { danglingAfterConfig } from "../../core/registry/config-references.ts";
import { firstUnknownKeyModel } from "../../core/registry/key-models.ts";
import type { RegistryStore } from "../../core/registry/port.ts";

/**
 * The keys the operator gave (GATEWAY_API_KEY, GATEWAY_ADMIN_KEY). Whitespace around one is dropped: a
 * secret read from a file keeps its newline, and no header can send it, so the key could never be
 * used. Whitespace or a control character inside one is refused for the same reason (an
 * `Authorization: Bearer` value ends at a space), as is one key for both roles.
 */
export function operatorKeys(env: Record<string, string | undefined>): {
  apiKey: string | undefined;
  adminKey: string | undefined;
} {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    if (/[\s\u0000-\u001f\u007f]/.test(value))
      throw new ConfigError(name, "must not contain spaces, newlines or control characters");
    return value;
  };
  const apiKey = read("GATEWAY_API_KEY");
  const adminKey = read("GATEWAY_ADMIN_KEY");
  // One secret, one key: the store would refuse the second with a conflict.
  if (apiKey && apiKey === adminKey)
    throw new ConfigError("GATEWAY_ADMIN_KEY", "must differ from GATEWAY_API_KEY");
  return { apiKey, adminKey };
}

/**
 * Applies a config to the registry and makes sure an API key and an admin key exist. Portable mode
 * runs it at every start; in AWS the seeding CLI runs it against DynamoDB. Returns keys it generated
 * (their only plaintext copy) for the caller to print once.
 */
export async function seedStores(
  registry: RegistryStore,
  keys: KeyStore,
  config: GatewayConfig,
  env: Record<string, string | undefined>,
  audit?: AuditQueue,
): Promise<CreatedKey[]> {
  const declared = config.orgs.length > 0 ? config.orgs : [{ id: "default", name: "Default org" }];
  const before = await registry.load();
  const keysBefore = await keys.list();
  // Before anything is written: a file that drops what admin-made entries use changes nothing.
  const stored = {
    providers: await registry.list("provider"),
    models: await registry.list("model"),
    orgs: await registry.list("org"),
    keys: keysBefore,
  };
  const dangling = danglingAfterConfig(config, declared, stored);
  if (dangling.length > 0)
    throw new ConfigError(
      "",
      `applying it would leave ${dangling.join("; ")}. Keep those in the file, or change or delete what uses them through the admin API first.`,
    );
  const unknown = firstUnknownKeyModel(config, stored);
  if (unknown) throw new ConfigError(unknown.path, unknown.message);
  const now = new Date().toISOString();
  // Budgets remember when they were added (core/budgets/counters.ts), across starts too.
  const orgs = declared.map((o) => {
    const budgets = stampBudgets(o.budgets, before.orgs.get(o.id)?.budgets, now);
    return budgets ? { ...o, budgets } : o;
  });
  await registry.applyConfig({ providers: config.providers, models: config.models, orgs });
  const configured = config.keys.map((k) => {
    const budgets = stampBudgets(k.budgets, keysBefore.find((b) => b.id === k.id)?.budgets, now);
    return budgets ? { ...k, budgets } : k;
  });
  const created = await bootstrapKeys(keys, {
    org: orgs[0]!.id,
    orgs: new Set((await registry.list("org")).map((o) => o.id)),
    ...operatorKeys(env),
    configured,
    now,
  });
  if (audit) {
    // Every change a config application made is audited like an admin change: entry, before, after.
    const at = Date.now();
    const runId = `config-${at}-${randomUUID()}`;
    const fromFile = new Set(config.keys.map((k) => k.id));
    const records = [
      ...configChangeRecords(before, await registry.load(), runId, at),
      ...keyChangeRecords(keysBefore, await keys.list(), fromFile, runId, at),
    ];
    if (records.length > 0) await audit.enqueue(records);
  }
  return created;
}

/** The lines that show generated keys once. */
export function createdKeyLines(created: CreatedKey[]): string[] {
  if (created.length === 0) return [];
  return [
    "",
    "Created keys (shown once; only their SHA-256 is stored, so save them now):",
    ...created.map((k) => `  ${k.role === "admin" ? "admin key" : `API key (org ${k.org})`}: ${k.secret}`),
  ];
}
