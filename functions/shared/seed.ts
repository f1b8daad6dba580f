import { randomUUID } from "node:crypto";
import { configChangeRecords, keyChangeRecords } from "../../core/audit/changes.ts";
import type { AuditQueue } from "../../core/audit/port.ts";
import { stampBudgets } from "../../core/budgets/counters.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import { bootstrapKeys, type CreatedKey } from "../../core/keys/bootstrap.ts";
import type { KeyStore } from "../../core/keys/port.ts";
import type { RegistryStore } from "../../core/registry/port.ts";

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
    apiKey: env.GATEWAY_API_KEY || undefined,
    adminKey: env.GATEWAY_ADMIN_KEY || undefined,
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
