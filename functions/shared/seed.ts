import { randomUUID } from "node:crypto";
import { configChangeRecords, keyChangeRecords } from "../../core/audit/changes.ts";
import type { AuditQueue } from "../../core/audit/port.ts";
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
  const orgs = config.orgs.length > 0 ? config.orgs : [{ id: "default", name: "Default org" }];
  const before = audit ? await registry.load() : undefined;
  const keysBefore = audit ? await keys.list() : [];
  await registry.applyConfig({ providers: config.providers, models: config.models, orgs });
  const created = await bootstrapKeys(keys, {
    org: orgs[0]!.id,
    apiKey: env.GATEWAY_API_KEY || undefined,
    adminKey: env.GATEWAY_ADMIN_KEY || undefined,
    configured: config.keys,
    now: new Date().toISOString(),
  });
  if (audit && before) {
    // Every change a config application made is audited like an admin change: entry, before, after.
    const now = Date.now();
    const runId = `config-${now}-${randomUUID()}`;
    const configured = new Set(config.keys.map((k) => k.id));
    const records = [
      ...configChangeRecords(before, await registry.load(), runId, now),
      ...keyChangeRecords(keysBefore, await keys.list(), configured, runId, now),
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
