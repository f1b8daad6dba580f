import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoBudgetStore } from "../core/budgets/dynamo-store.ts";
import { createDynamoSpendStore } from "../core/budgets/spend-dynamo-store.ts";
import { createEventBridgePublisher } from "../core/events/eventbridge-publisher.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import { PRIMARY_REGION } from "../stacks/regions.ts";
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
const region = process.env.AWS_REGION ?? PRIMARY_REGION;
/**
 * Threshold claims are taken in the primary region's replica of the budgets table, from either region,
 * so that a line both regions cross during replication lag fires once (spend-dynamo-store.ts `claims`).
 * While the primary region is unreachable, a crossing's record fails and the queue brings it back.
 */
const claimsDoc =
  region === PRIMARY_REGION
    ? doc
    : DynamoDBDocumentClient.from(new DynamoDBClient({ ...AWS_CLIENT_CONFIG, region: PRIMARY_REGION }), {
        marshallOptions: { removeUndefinedValues: true },
      });
const registry = createDynamoRegistryStore(doc, linkedTableName("RegistryTable"));
const keys = createDynamoKeyStore(doc, linkedTableName("KeysTable"));

export const handler = createCostAggregatorQueueHandler(
  {
    spend: createDynamoSpendStore(doc, linkedTableName("BudgetsTable"), {
      claims: { doc: claimsDoc, tableName: linkedTableName("BudgetsTable") },
    }),
    // Settles what a router could not (a DynamoDB outage after its response). Each region has its own
    // bus, so this runs in the router's region, and a correction lands on that region's counter items.
    budgets: createDynamoBudgetStore(doc, linkedTableName("BudgetsTable"), region),
    events: createEventBridgePublisher(new EventBridgeClient(AWS_CLIENT_CONFIG), linkedName("Bus")),
    orgBudgets: async (org) => (await registry.get("org", org))?.doc.budgets ?? [],
    keyBudgets: async (org, id) => {
      const key = await keys.get(id);
      return key?.org === org ? (key.budgets ?? []) : [];
    },
  },
  powertoolsLog(logger),
);
