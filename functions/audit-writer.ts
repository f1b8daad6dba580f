import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoAuditStore } from "../core/audit/dynamo-store.ts";
import { createKmsSigner } from "../core/audit/kms-signer.ts";
import { createAuditWriterHandler } from "./audit-writer-handler.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedArn, linkedTableName } from "./aws/resources.ts";

/**
 * Audit writer (`functions/audit-writer.handler`), subscribed to the audit FIFO queue (batches of ≤ 10,
 * partial batch responses; stacks/audit.ts): appends each record to its chain in the regional AuditTable
 * and signs checkpoints with the linked KMS key (by ARN, which names the key in exports). Clients and
 * stores are built once per container.
 */
const logger = new Logger({ serviceName: "llm-gateway-audit-writer" });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});

export const handler = createAuditWriterHandler({
  store: createDynamoAuditStore(doc, linkedTableName("AuditTable")),
  signer: createKmsSigner(new KMSClient(AWS_CLIENT_CONFIG), linkedArn("AuditSigningKey")),
  now: Date.now,
  log: powertoolsLog(logger),
});
