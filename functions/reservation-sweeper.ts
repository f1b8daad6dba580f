import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createSqsAuditQueue } from "../core/audit/sqs-queue.ts";
import { createDynamoOpenReservations } from "../core/budgets/dynamo-open-reservations.ts";
import { sweepOrphanedReservations } from "../core/budgets/reservation-sweep.ts";
import { createEventBridgePublisher } from "../core/events/eventbridge-publisher.ts";
import { auditInterrupted } from "../core/gateway/interrupted-audit.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedName, linkedTableName, linkedUrl } from "./aws/resources.ts";

/**
 * The reservation sweep (`functions/reservation-sweeper.handler`, run every 5 minutes by the events
 * stack's schedule): charges the budget reservations that router invocations which died left open in
 * this region (core/budgets/reservation-sweep.ts). Its events go onto this region's bus, so the cost
 * aggregator settles them on this region's counter items, where they were reserved. A sensitive org's
 * requests among them go to its audit chain first, as portable mode's start records them.
 */
const logger = new Logger({ serviceName: "llm-gateway-reservation-sweeper" });
const region = process.env.AWS_REGION ?? "us-east-1";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});
const events = createEventBridgePublisher(new EventBridgeClient(AWS_CLIENT_CONFIG), linkedName("Bus"));
const registry = createDynamoRegistryStore(doc, linkedTableName("RegistryTable"));
const audit = createSqsAuditQueue(new SQSClient(AWS_CLIENT_CONFIG), linkedUrl("AuditQueue"));
const log = powertoolsLog(logger);
const deps = {
  open: createDynamoOpenReservations(doc, linkedTableName("BudgetsTable"), region),
  publish: (batch: Parameters<typeof events.publish>[0]) => events.publish(batch),
  region,
  now: Date.now,
  log,
  beforeCharging: (requests: Parameters<typeof auditInterrupted>[0]) =>
    auditInterrupted(
      requests,
      async (org: string) => (await registry.get("org", org))?.doc.sensitive === true,
      audit,
      log,
    ),
};

export async function handler(): Promise<{ charged: number }> {
  return sweepOrphanedReservations(deps);
}
