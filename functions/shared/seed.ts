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
): Promise<CreatedKey[]> {
  const orgs = config.orgs.length > 0 ? config.orgs : [{ id: "default", name: "Default org" }];
  await registry.applyConfig({ providers: config.providers, models: config.models, orgs });
  return bootstrapKeys(keys, {
    org: orgs[0]!.id,
    apiKey: env.GATEWAY_API_KEY || undefined,
    adminKey: env.GATEWAY_ADMIN_KEY || undefined,
    configured: config.keys,
    now: new Date().toISOString(),
  });
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
