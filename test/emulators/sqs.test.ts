import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsEmulator, startSqsEmulator } from "./sqs.ts";

/** What the emulator does with the SQS FIFO features the audit transport relies on. */
let raw: SqsEmulator;
let fixed: SqsEmulator;
const clients: SQSClient[] = [];

beforeAll(async () => {
  [raw, fixed] = await Promise.all([startSqsEmulator({ fifoBatches: "fauxqs" }), startSqsEmulator()]);
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all([raw?.stop(), fixed?.stop()]);
});

const sqsOf = (emu: SqsEmulator) => {
  const c = emu.client();
  clients.push(c);
  return c;
};

async function send(sqs: SQSClient, url: string, group: string, ids: string[]): Promise<void> {
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: ids.map((id, i) => ({
        Id: `e${i}`,
        MessageBody: id,
        MessageGroupId: group,
        MessageDeduplicationId: id,
      })),
    }),
  );
  expect(out.Failed ?? []).toEqual([]);
}

async function receive(sqs: SQSClient, url: string, visibility?: number): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibility,
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return out.Messages ?? [];
}

const bodies = (ms: Message[]) => ms.map((m) => m.Body);
const ten = (p: string) => Array.from({ length: 10 }, (_, i) => `${p}${i}`);

describe("fauxqs as it ships: the gap", () => {
  it("returns only one message of a group per ReceiveMessage, where SQS returns up to 10", async () => {
    const sqs = sqsOf(raw);
    const url = await raw.createFifoQueue("gap");
    await send(sqs, url, "g", ten("m"));
    const first = await receive(sqs, url);
    expect(bodies(first)).toEqual(["m0"]);
    // The in-flight lock holds: nothing more of the group until m0 is deleted.
    expect(await receive(sqs, url)).toEqual([]);
  });
});

describe("the compensated emulator (SQS FIFO semantics)", () => {
  it("sends a batch of 10 and receives the 10 of one group in order, with FIFO system attributes", async () => {
    const sqs = sqsOf(fixed);
    const url = await fixed.createFifoQueue("batch");
    await send(sqs, url, "g", ten("m"));
    const got = await receive(sqs, url);
    expect(bodies(got)).toEqual(ten("m"));
    expect(got.map((m) => m.Attributes?.MessageGroupId)).toEqual(Array(10).fill("g"));
    expect(got[0]?.Attributes?.MessageDeduplicationId).toBe("m0");
    const seqs = got.map((m) => m.Attributes?.SequenceNumber ?? "");
    expect([...seqs].sort()).toEqual(seqs);
  });

  it("locks a group while any of its messages is in flight; other groups still flow", async () => {
    const sqs = sqsOf(fixed);
    const url = await fixed.createFifoQueue("lock");
    await send(sqs, url, "a", ["a0", "a1"]);
    const [a0] = await (async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));
      return out.Messages ?? [];
    })();
    expect(a0?.Body).toBe("a0");
    await send(sqs, url, "b", ["b0"]);
    expect(bodies(await receive(sqs, url))).toEqual(["b0"]);
    expect(await receive(sqs, url)).toEqual([]);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [{ Id: "d", ReceiptHandle: a0?.ReceiptHandle ?? "" }],
      }),
    );
    expect(bodies(await receive(sqs, url))).toEqual(["a1"]);
  });

  it("drops a second send with the same MessageDeduplicationId", async () => {
    const sqs = sqsOf(fixed);
    const url = await fixed.createFifoQueue("dedup");
    await send(sqs, url, "g", ["x", "y"]);
    await send(sqs, url, "g", ["x", "z"]);
    expect(bodies(await receive(sqs, url))).toEqual(["x", "y", "z"]);
  });

  it("redelivers undeleted messages after the visibility timeout, in order, after partial deletes", async () => {
    const sqs = sqsOf(fixed);
    const url = await fixed.createFifoQueue("redeliver");
    await send(sqs, url, "g", ten("m"));
    const got = await receive(sqs, url, 1);
    // Delete m0..m4 (a partial batch response); m5..m9 come back once the timeout expires.
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: got.slice(0, 5).map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
    expect(out.Successful).toHaveLength(5);
    expect(await receive(sqs, url)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_100));
    const again = await receive(sqs, url);
    expect(bodies(again)).toEqual(ten("m").slice(5));
    expect(again.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(Array(5).fill("2"));
  });

  it("keeps queues and messages across stop() and restart()", async () => {
    const sqs = sqsOf(fixed);
    const url = await fixed.createFifoQueue("restart");
    await send(sqs, url, "g", ["r0"]);
    await fixed.stop();
    const once = fixed.client({ maxAttempts: 1 });
    clients.push(once);
    await expect(once.send(new ReceiveMessageCommand({ QueueUrl: url }))).rejects.toThrow(/ECONNREFUSED/);
    await fixed.restart();
    expect(bodies(await receive(sqs, url))).toEqual(["r0"]);
  });
});
