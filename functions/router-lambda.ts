import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createSqsAuditQueue } from "../core/audit/sqs-queue.ts";
import { createEventBridgePublisher } from "../core/events/eventbridge-publisher.ts";
import { outcomeFields } from "../core/gateway/outcome.ts";
import { redactingLog } from "../core/pii/redacting-log.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { buildAwsDeps } from "./aws/deps.ts";
import { publishOutcome } from "./aws/metrics.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedName, linkedTableName, linkedUrl, providerSecrets } from "./aws/resources.ts";
import { createRouterHandler } from "./router.ts";

/**
 * Lambda entry point of the router (`functions/router-lambda.handler`). Everything here runs once per
 * container: clients, caches and the keep-alive pools to providers are reused across invocations.
 */
const logger = new Logger({ serviceName: "llm-gateway-router" });
// Every line, the request log included, passes through PII and secret redaction.
const log = redactingLog(powertoolsLog(logger));
const metrics = new Metrics({ namespace: "LlmGateway", serviceName: "router" });

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});

const deps = buildAwsDeps({
  doc,
  tables: {
    registry: linkedTableName("RegistryTable"),
    keys: linkedTableName("KeysTable"),
    budgets: linkedTableName("BudgetsTable"),
  },
  events: createEventBridgePublisher(new EventBridgeClient(AWS_CLIENT_CONFIG), linkedName("Bus")),
  audit: createSqsAuditQueue(new SQSClient(AWS_CLIENT_CONFIG), linkedUrl("AuditQueue")),
  env: providerSecrets(process.env),
  log,
  maxBodyBytes: Number(process.env.GATEWAY_MAX_BODY_BYTES) || DEFAULT_MAX_BODY,
  region: process.env.AWS_REGION ?? "us-east-1",
  onOutcome: (outcome) => {
    log.info("request", outcomeFields(outcome));
    publishOutcome(metrics, outcome);
  },
});

// Adds the Lambda request id (and cold-start flag) to every log line of the invocation.
export const handler = createRouterHandler(deps, [injectLambdaContext(logger)]);
