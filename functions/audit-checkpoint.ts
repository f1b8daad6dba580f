import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { checkpointQuietChains } from "../core/audit/checkpointer.ts";
import { createDynamoAuditStore } from "../core/audit/dynamo-store.ts";
import { createKmsSigner } from "../core/audit/kms-signer.ts";
import { AWS_CLIENT_CONFIG } from "./aws/client-config.ts";
import { powertoolsLog } from "./aws/powertools-log.ts";
import { linkedArn, linkedTableName } from "./aws/resources.ts";

/**
 * Time-based checkpoints (`functions/audit-checkpoint.handler`, run every minute by the audit stack's
 * schedule): the writer signs busy chains as it appends, every 100 entries or 60 s; this signs the
 * chains that went quiet with unsigned entries, so no tail stays unsigned for long. Portable mode runs
 * the same `checkpointQuietChains` on a timer.
 */
const logger = new Logger({ serviceName: "llm-gateway-audit-checkpoint" });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});
const deps = {
  store: createDynamoAuditStore(doc, linkedTableName("AuditTable")),
  signer: createKmsSigner(new KMSClient(AWS_CLIENT_CONFIG), linkedArn("AuditSigningKey")),
  now: Date.now,
  log: powertoolsLog(logger),
};

export async function handler(): Promise<{ signed: number }> {
  const signed = await checkpointQuietChains(deps);
  if (signed > 0) logger.info("quiet chains checkpointed", { signed });
  return { signed };
}
