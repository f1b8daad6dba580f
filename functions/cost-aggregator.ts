import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoBudgetStore } from "../core/budgets/dynamo-store.ts";
import { createDynamoSpendStore } from "../core/budgets/spend-dynamo-store.ts";
import { createEventBridgePublisher } from "../core/events/eventbridge-publisher.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedName, linkedTableName } from "./aws/resources.ts";
import { createCostAggregatorQueueHandler } from "./cost-aggregator-handler.ts";

/**
 * Cost aggregator (`functions/cost-aggregator.handler`), the consumer of the UsageQueue that the bus's
 * `llm.usage` rule feeds (stacks/events.ts): rollups per org/key/model/day in the budgets table,
 * thresholds at 50/80/100 % back onto the bus. A record that fails comes back from the queue until it
 * is counted (or dead-lettered); delivery is at least once and counting is idempotent.
 */
const logger = new Logger({ serviceName: "llm-gateway-cost-aggregator" });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});
const registry = createDynamoRegistryStore(doc, linkedTableName("RegistryTable"));
const keys = createDynamoKeyStore(doc, linkedTableName("KeysTable"));

export const handler = createCostAggregatorQueueHandler(
  {
    spend: createDynamoSpendStore(doc, linkedTableName("BudgetsTable")),
    // Settles what a router could not (a DynamoDB outage after its response). Each region has its own
    // bus, so this runs in the router's region, and a correction lands on that region's counter items.
    budgets: createDynamoBudgetStore(
      doc,
      linkedTableName("BudgetsTable"),
      process.env.AWS_REGION ?? "us-east-1",
    ),
    events: createEventBridgePublisher(new EventBridgeClient(AWS_CLIENT_CONFIG), linkedName("Bus")),
    orgBudgets: async (org) => (await registry.get("org", org))?.doc.budgets ?? [],
    keyBudgets: async (org, id) => {
      const key = await keys.get(id);
      return key?.org === org ? (key.budgets ?? []) : [];
    },
  },
  powertoolsLog(logger),
);
