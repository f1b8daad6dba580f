import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoSpendStore } from "../core/budgets/spend-dynamo-store.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import { createAdminHandler } from "./admin-handler.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedTableName } from "./aws/resources.ts";

/**
 * Admin Lambda (`functions/admin.handler`): a buffered REST proxy integration, not a streaming one. It
 * writes DynamoDB directly (no caches: admin calls are rare and must read their own writes); every
 * registry write bumps the version stamp, which the router containers check at most once a second.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

const logger = new Logger({ serviceName: "llm-gateway-admin" });

export const handler = createAdminHandler(
  {
    keys: createDynamoKeyStore(doc, linkedTableName("KeysTable")),
    registry: createDynamoRegistryStore(doc, linkedTableName("RegistryTable")),
    spend: createDynamoSpendStore(doc, linkedTableName("BudgetsTable")),
    log: powertoolsLog(logger),
    newId: randomUUID,
    now: Date.now,
  },
  [injectLambdaContext(logger)],
);
