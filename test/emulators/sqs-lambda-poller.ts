import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord, SQSRecordAttributes } from "aws-lambda";

/**
 * A stand-in for Lambda's SQS event source mapping on a FIFO queue: receives up to `batchSize` (≤ 10)
 * messages, invokes the handler with the SQS event shape, deletes the records the partial batch
 * response did not list, and leaves the listed ones (all of them if the handler throws or names an
 * unknown id) to come back after the visibility timeout. `concurrency` loops poll at once, as Lambda's
 * pollers do; the queue's group lock keeps one batch per message group in flight.
 */
export interface LambdaPoller {
  /** Every batch the handler was given, in invocation order (message bodies and groups). */
  readonly batches: { group: string; body: string }[][];
  stop(): Promise<void>;
  /** Resolves true once the queue holds no visible or in-flight message and no handler runs. */
  drain(timeoutMs: number): Promise<boolean>;
}

export interface PollerOptions {
  batchSize?: number;
  concurrency?: number;
  queueArn?: string;
}

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? "",
      SenderId: a.SenderId ?? "",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? "",
      SequenceNumber: a.SequenceNumber,
      MessageGroupId: a.MessageGroupId,
      MessageDeduplicationId: a.MessageDeduplicationId,
    } satisfies SQSRecordAttributes,
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: "us-east-1",
  };
}

export function startSqsLambdaPoller(
  sqs: SQSClient,
  queueUrl: string,
  handler: Handler,
  opts: PollerOptions = {},
): LambdaPoller {
  const queueArn = opts.queueArn ?? `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split("/").at(-1)}`;
  const batches: { group: string; body: string }[][] = [];
  let stopped = false;
  let busy = 0;

  async function pollOnce(): Promise<void> {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, opts.batchSize ?? 10),
        // Short polling (Lambda long-polls 20 s): stop() must not wait out a long poll.
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return void (await new Promise((r) => setTimeout(r, 25)));
    busy++;
    try {
      const records = messages.map((m) => toRecord(m, queueArn));
      batches.push(records.map((r) => ({ group: r.attributes.MessageGroupId ?? "", body: r.body })));
      let failed: Set<string>;
      try {
        const res = await handler({ Records: records });
        failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        // Lambda: an itemIdentifier that is not in the batch fails the whole batch.
        if ([...failed].some((id) => !records.some((r) => r.messageId === id)))
          failed = new Set(records.map((r) => r.messageId));
      } catch {
        failed = new Set(records.map((r) => r.messageId));
      }
      const done = records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((r, i) => ({ Id: `d${i}`, ReceiptHandle: r.receiptHandle })),
          }),
        );
    } finally {
      busy--;
    }
  }

  const loops = Array.from({ length: opts.concurrency ?? 2 }, async () => {
    while (!stopped) {
      try {
        await pollOnce();
      } catch {
        // The endpoint is down or restarting: poll again shortly, as Lambda's pollers do.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  const pending = async () => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const a = out.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  };

  return {
    batches,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (busy === 0 && (await pending()) === 0 && busy === 0) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
