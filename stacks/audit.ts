/**
 * Audit transport and signing (DESIGN §7): an SQS FIFO queue (one message group per chain) consumed in
 * order by the audit writer, which appends to the regional AuditTable and signs checkpoints with KMS.
 */
import { dynamoReadWrite } from "./access.ts";
import { LAMBDA_DEFAULTS } from "./lambda.ts";
import { type Deployment, PRIMARY_REGION, signingKeyAlias } from "./regions.ts";
import type { Storage } from "./storage.ts";

export interface Audit {
  readonly queue: sst.aws.Queue;
  readonly deadLetterQueue: sst.aws.Queue;
  /** Link target exposing the key's ARN and alias, granting kms:Sign and kms:GetPublicKey only. */
  readonly signingKey: sst.Linkable<{ arn: $util.Output<string>; alias: string }>;
}

const WRITER_TIMEOUT_SECONDS = 60;
// AWS: set the source queue's visibility timeout to at least six times the function timeout, so a batch
// retried by Lambda is not redelivered while a previous attempt is still running.
const VISIBILITY_TIMEOUT_SECONDS = 6 * WRITER_TIMEOUT_SECONDS;
// SQS maximum message retention: 14 days (1 209 600 s); audit records must not expire in the queue.
const RETENTION_SECONDS = 1_209_600;
// Deliveries before a record is parked in the DLQ; the FIFO group stays blocked until then.
const MAX_RECEIVE_COUNT = 5;
// SQS -> Lambda batch size ceiling for FIFO queues is 10 messages.
const BATCH_SIZE = 10;
// KMS waiting period before a scheduled key deletion: 7-30 days; take the longest for a signing key.
const KEY_DELETION_WINDOW_DAYS = 30;

function createSigningKey(deployment: Deployment) {
  const alias = signingKeyAlias($app.name, deployment.env);
  const description = `llm-gateway ${deployment.env} audit checkpoint signing (ECDSA P-256)`;
  // Asymmetric keys do not support automatic rotation, so none is configured. Multi-Region: the replica
  // shares key material and key id with the primary, so one public key verifies both regions' chains.
  // Protected environments keep the key on `sst remove`: without it, past checkpoints can no longer be
  // verified through KMS (export the public key first if you ever delete it).
  const opts = { retainOnDelete: deployment.protected };
  const key =
    deployment.role === "primary"
      ? new aws.kms.Key(
          "AuditSigningKey",
          {
            description,
            customerMasterKeySpec: "ECC_NIST_P256",
            keyUsage: "SIGN_VERIFY",
            multiRegion: true,
            deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
          },
          opts,
        )
      : new aws.kms.ReplicaKey(
          "AuditSigningKey",
          {
            description,
            primaryKeyArn: aws.kms.getAliasOutput({ name: alias, region: PRIMARY_REGION }).targetKeyArn,
            deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
          },
          opts,
        );
  new aws.kms.Alias("AuditSigningKeyAlias", { name: alias, targetKeyId: key.keyId }, opts);
  return new sst.Linkable("AuditSigningKey", {
    properties: { arn: key.arn, alias },
    include: [sst.aws.permission({ actions: ["kms:Sign", "kms:GetPublicKey"], resources: [key.arn] })],
  });
}

export function createAudit(deployment: Deployment, storage: Storage): Audit {
  // A FIFO queue's dead-letter queue must itself be FIFO.
  const deadLetterQueue = new sst.aws.Queue("AuditDeadLetterQueue", {
    fifo: true,
    transform: { queue: { messageRetentionSeconds: RETENTION_SECONDS } },
  });
  const queue = new sst.aws.Queue("AuditQueue", {
    // The sender sets MessageDeduplicationId = event id; content-based dedup would merge distinct
    // records whose bodies happen to be equal.
    fifo: { contentBasedDeduplication: false },
    visibilityTimeout: `${VISIBILITY_TIMEOUT_SECONDS} seconds`,
    dlq: { queue: deadLetterQueue.arn, retry: MAX_RECEIVE_COUNT },
    transform: { queue: { messageRetentionSeconds: RETENTION_SECONDS } },
  });
  const signingKey = createSigningKey(deployment);

  queue.subscribe(
    {
      ...LAMBDA_DEFAULTS,
      handler: "functions/audit-writer.handler",
      timeout: `${WRITER_TIMEOUT_SECONDS} seconds`,
      link: [storage.audit, queue, signingKey],
      permissions: [dynamoReadWrite(storage.audit)],
    },
    // Partial batch responses: the writer stops at the first failed record of a FIFO batch and reports it
    // and the rest as failures, so only they are retried, in order.
    { batch: { size: BATCH_SIZE, partialResponses: true } },
  );
  // Time-based checkpoints for chains that went quiet (the writer signs busy ones as it appends).
  new sst.aws.Cron("AuditCheckpoints", {
    schedule: "rate(1 minute)",
    function: {
      ...LAMBDA_DEFAULTS,
      handler: "functions/audit-checkpoint.handler",
      timeout: "1 minute",
      link: [storage.audit, signingKey],
      permissions: [dynamoReadWrite(storage.audit)],
    },
  });
  return { queue, deadLetterQueue, signingKey };
}
