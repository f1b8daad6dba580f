import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { type BuildAppOptions, buildApp } from "fauxqs";
import { freePort } from "./free-port.ts";

/**
 * An SQS emulator on 127.0.0.1: fauxqs (in-process, Fastify) over a store we own, so stop()/restart()
 * keeps every queue and message the way a real outage of the endpoint would.
 *
 * What fauxqs gets right (checked by test/emulators/sqs.test.ts): FIFO queue creation, SendMessageBatch of
 * 10, MessageDeduplicationId dedup (5-minute window), the per-group in-flight lock, visibility-timeout
 * redelivery, DeleteMessageBatch, SequenceNumber / MessageGroupId system attributes.
 * What it misses: ReceiveMessage returns at most ONE message per message group per call (its dequeue
 * breaks after the first message of a group), where SQS returns up to 10 of one group in order. With
 * `fifoBatches: "sqs"` (the default) each FIFO queue gets a dequeue that takes up to 10 of a group, and a
 * visibility-timeout requeue that puts several expired in-flight messages of one group back in sequence
 * order (fauxqs unshifts them one by one, which would reverse them once more than one is in flight).
 * ChangeMessageVisibility(0) on several in-flight messages of one group is not compensated (unused here).
 */
export interface SqsEmulator {
  readonly endpoint: string;
  client(overrides?: Partial<SQSClientConfig>): SQSClient;
  /** Creates a FIFO queue (name gets `.fifo`), explicit dedup ids only; returns its URL. */
  createFifoQueue(name: string, visibilityTimeoutSeconds?: number): Promise<string>;
  stop(): Promise<void>;
  /** Listens again on the same port, with every queue and message kept. */
  restart(): Promise<void>;
}

interface FauxMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number;
  messageGroupId?: string;
  sequenceNumber?: string;
}
interface Inflight {
  message: FauxMessage;
  receiptHandle: string;
  visibilityDeadline: number;
}
interface FauxQueue {
  name: string;
  attributes: Record<string, string | undefined>;
  fifoMessages: Map<string, FauxMessage[]>;
  fifoLockedGroups: Map<string, number>;
  inflightMessages: Map<string, Inflight>;
  isFifo(): boolean;
  processTimers(): void;
  dequeueFifo(maxCount: number, visibilityTimeout?: number): unknown[];
}
interface FauxStore {
  host: string;
  createQueue(...args: unknown[]): FauxQueue;
  shutdown(): void;
}

/** fauxqs exports only buildApp; its store class sits beside it (package `exports` hides the path). */
async function newStore(): Promise<FauxStore> {
  const url = new URL("./sqs/sqsStore.js", import.meta.resolve("fauxqs"));
  const mod = (await import(url.href)) as { SqsStore: new () => FauxStore };
  return new mod.SqsStore();
}

const bySequence = (a: FauxMessage, b: FauxMessage): number => {
  const x = BigInt(a.sequenceNumber ?? "0");
  const y = BigInt(b.sequenceNumber ?? "0");
  return x < y ? -1 : x > y ? 1 : 0;
};

function unlock(queue: FauxQueue, group: string): void {
  const n = (queue.fifoLockedGroups.get(group) ?? 1) - 1;
  if (n <= 0) queue.fifoLockedGroups.delete(group);
  else queue.fifoLockedGroups.set(group, n);
}

/** SQS FIFO batches: up to 10 messages of one group per receive; the group stays locked while any is in flight. */
function compensate(queue: FauxQueue): void {
  if (!queue.isFifo()) return;
  const processTimers = queue.processTimers.bind(queue);
  queue.processTimers = () => {
    const now = Date.now();
    const expired = [...queue.inflightMessages.values()].filter((e) => e.visibilityDeadline <= now);
    for (const e of expired) {
      const group = e.message.messageGroupId ?? "__default";
      queue.inflightMessages.delete(e.receiptHandle);
      unlock(queue, group);
      queue.fifoMessages.set(group, [e.message, ...(queue.fifoMessages.get(group) ?? [])]);
    }
    processTimers();
    // Messages of one group can expire in different sweeps (their deadlines differ by a few ms under
    // load), and fauxqs's own sweep above reads the clock again, so it can requeue, unsorted, one that
    // expired since `now`. Keep every group ordered by sequence number (compared as numbers) after both.
    for (const msgs of queue.fifoMessages.values()) msgs.sort(bySequence);
  };
  // No redrive policy support here: the test queues have none (fauxqs's own dequeue handles DLQs).
  queue.dequeueFifo = (maxCount, visibilityTimeout) => {
    queue.processTimers();
    const visibility = visibilityTimeout ?? Number(queue.attributes.VisibilityTimeout ?? "30");
    const out: unknown[] = [];
    const count = Math.min(maxCount, 10);
    for (const [group, msgs] of queue.fifoMessages) {
      if (out.length >= count) break;
      if (queue.fifoLockedGroups.has(group)) continue;
      while (out.length < count && msgs.length > 0) {
        const msg = msgs.shift() as FauxMessage;
        msg.approximateReceiveCount++;
        msg.approximateFirstReceiveTimestamp ??= Date.now();
        const receiptHandle = randomUUID();
        const visibilityDeadline = Date.now() + visibility * 1000;
        queue.inflightMessages.set(receiptHandle, { message: msg, receiptHandle, visibilityDeadline });
        queue.fifoLockedGroups.set(group, (queue.fifoLockedGroups.get(group) ?? 0) + 1);
        out.push({
          MessageId: msg.messageId,
          ReceiptHandle: receiptHandle,
          MD5OfBody: msg.md5OfBody,
          Body: msg.body,
        });
      }
      if (msgs.length === 0) queue.fifoMessages.delete(group);
    }
    return out;
  };
}

export async function startSqsEmulator(
  options: { fifoBatches?: "sqs" | "fauxqs" } = {},
): Promise<SqsEmulator> {
  const store = await newStore();
  // An empty host makes queue URLs http://127.0.0.1:<port>/<account>/<name> (the request's Host).
  store.host = "";
  if ((options.fifoBatches ?? "sqs") === "sqs") {
    const create = store.createQueue.bind(store);
    store.createQueue = (...args) => {
      const queue = create(...args);
      compensate(queue);
      return queue;
    };
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const stores = { sqsStore: store } as unknown as BuildAppOptions["stores"];
  let app: ReturnType<typeof buildApp> | undefined;
  const listen = async () => {
    const next = buildApp({ logger: false, stores });
    await next.listen({ port, host: "127.0.0.1" });
    app = next;
  };
  await listen();

  const client = (overrides: Partial<SQSClientConfig> = {}) =>
    new SQSClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      ...overrides,
    });

  return {
    endpoint,
    client,
    async createFifoQueue(name, visibilityTimeoutSeconds = 30) {
      const sqs = client();
      try {
        const out = await sqs.send(
          new CreateQueueCommand({
            QueueName: `${name}.fifo`,
            Attributes: {
              FifoQueue: "true",
              ContentBasedDeduplication: "false",
              VisibilityTimeout: String(visibilityTimeoutSeconds),
            },
          }),
        );
        if (!out.QueueUrl) throw new Error("CreateQueue returned no QueueUrl");
        return out.QueueUrl;
      } finally {
        sqs.destroy();
      }
    },
    async stop() {
      const running = app;
      app = undefined;
      await running?.close();
    },
    async restart() {
      if (app) await app.close();
      await listen();
    },
  };
}
