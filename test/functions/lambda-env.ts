import { parseConfig } from "../../core/config/parse.ts";
import type { BudgetConfig, GatewayConfig } from "../../core/config/schema.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { seedStores } from "../../functions/shared/seed.ts";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";
import { type EventBridgeEmulator, startEventBridgeEmulator } from "../emulators/eventbridge.ts";

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

/** DynamoDB Local and the EventBridge emulator, seeded and linked for a budget Lambda under test. */
export interface BudgetLambdaStage {
  ddb: DynamoDbLocal;
  eventBridge: EventBridgeEmulator;
  stop(): Promise<void>;
}

/**
 * Starts the emulators, seeds an `openai` provider and the org `acme` with `budget`, and links the
 * Lambda environment: what the cost aggregator's and the reservation sweeper's suites both stand on.
 */
export async function stageBudgetLambdas(
  tables: LinkedTables,
  budget: BudgetConfig,
  org: { sensitive?: boolean } = {},
): Promise<BudgetLambdaStage> {
  const [ddb, eventBridge] = await Promise.all([startDynamoDbLocal(), startEventBridgeEmulator()]);
  await seedTables(
    ddb,
    tables,
    parseConfig({
      providers: [{ id: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY" }],
      orgs: [{ id: "acme", budgets: [budget], ...org }],
    }),
  );
  linkLambdaEnvironment(ddb, eventBridge.endpoint, tables);
  return {
    ddb,
    eventBridge,
    async stop() {
      await eventBridge.stop();
      await ddb.dispose();
    },
  };
}
