import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { adminChangeRecord } from "../core/audit/changes.ts";
import { createDynamoAuditStore } from "../core/audit/dynamo-store.ts";
import { createKmsSigner } from "../core/audit/kms-signer.ts";
import { createSampler } from "../core/audit/sampler.ts";
import { createSqsAuditQueue } from "../core/audit/sqs-queue.ts";
import { createDynamoSpendStore } from "../core/budgets/spend-dynamo-store.ts";
import { authFailureRecord } from "../core/gateway/audit.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import { redactingLog } from "../core/pii/redacting-log.ts";
import { createDynamoRegistryStore } from "../core/registry/dynamo-store.ts";
import { createAdminHandler } from "./admin-handler.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedTableName, linkedUrl } from "./aws/resources.ts";

/**
 * Admin Lambda (`functions/admin.handler`): a buffered REST proxy integration, not a streaming one. It
 * writes DynamoDB directly (no caches: admin calls are rare and must read their own writes); every
 * registry write bumps the version stamp, which the router containers check at most once a second.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});

const logger = new Logger({ serviceName: "llm-gateway-admin" });
const log = redactingLog(powertoolsLog(logger));
const auditQueue = createSqsAuditQueue(new SQSClient(AWS_CLIENT_CONFIG), linkedUrl("AuditQueue"));

const authFailures = createSampler(60);

export const handler = createAdminHandler(
  {
    keys: createDynamoKeyStore(doc, linkedTableName("KeysTable")),
    registry: createDynamoRegistryStore(doc, linkedTableName("RegistryTable")),
    spend: createDynamoSpendStore(doc, linkedTableName("BudgetsTable")),
    // Chain exports: the regional audit table and the signing key's public half (kms:GetPublicKey only).
    audit: {
      store: createDynamoAuditStore(doc, linkedTableName("AuditTable")),
      signer: createKmsSigner(new KMSClient(AWS_CLIENT_CONFIG), process.env.AUDIT_SIGNING_KEY_ARN ?? ""),
    },
    // Every change goes to the system chain through the FIFO queue.
    onChange: (change) => auditQueue.enqueue([adminChangeRecord(change, Date.now())]),
    // Keys guessed at the admin API, sampled per container like the router's (60 a minute).
    onAuthFailure: ({ requestId, endpoint, headers }) => {
      const record = authFailureRecord(requestId, endpoint, headers, Date.now(), authFailures);
      if (record) return auditQueue.enqueue([record]);
    },
    log,
    newId: randomUUID,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
  },
  [injectLambdaContext(logger)],
);
