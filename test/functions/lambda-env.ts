import type { GatewayConfig } from "../../core/config/schema.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { seedStores } from "../../functions/shared/seed.ts";
import { createTables, type DynamoDbLocal } from "../emulators/dynamodb-local.ts";

/** The three global tables a Lambda under test links, by their emulator names. */
export interface LinkedTables {
  registry: string;
  keys: string;
  budgets: string;
}

/** Creates the tables and seeds the registry and keys from `config`, as `npm run seed:aws` would. */
export async function seedTables(
  ddb: DynamoDbLocal,
  tables: LinkedTables,
  config: GatewayConfig,
): Promise<void> {
  await createTables(ddb.client(), Object.values(tables));
  const doc = ddb.documentClient();
  await seedStores(
    createDynamoRegistryStore(doc, tables.registry),
    createDynamoKeyStore(doc, tables.keys),
    config,
    {},
  );
}

/**
 * What SST links and the Lambda runtime give a function (its region, credentials, `Resource.*` names),
 * pointed at the emulators. Set before the function's module is imported: it reads them at load.
 */
export function linkLambdaEnvironment(
  ddb: DynamoDbLocal,
  eventBridgeEndpoint: string,
  tables: LinkedTables,
): void {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridgeEndpoint,
    SST_RESOURCE_BudgetsTable: JSON.stringify({ name: tables.budgets }),
    SST_RESOURCE_RegistryTable: JSON.stringify({ name: tables.registry }),
    SST_RESOURCE_KeysTable: JSON.stringify({ name: tables.keys }),
    SST_RESOURCE_Bus: JSON.stringify({ name: "gateway-bus" }),
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
}
