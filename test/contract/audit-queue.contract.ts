import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditEnqueueError, type SqsFifoEvent, type SqsFifoHandler } from "../../core/audit/fifo-message.ts";
import type { AuditQueue } from "../../core/audit/port.ts";
import type { AuditRecord } from "../../core/audit/types.ts";
import { auditRecs } from "./audit-fixtures.ts";

/** A transport under test: its queue, a consumer of it, and a way to make enqueue fail for a while. */
export interface AuditQueueHarness {
  queue: AuditQueue;
  /** The same transport with enqueue giving up after 2 quick attempts. */
  fragileQueue: AuditQueue;
  consume(handler: SqsFifoHandler): { stop(): Promise<void>; drain(timeoutMs: number): Promise<boolean> };
  /** Makes the transport refuse writes until the returned function is called. */
  outage(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

interface Delivery {
  eventId: string;
  chain: string;
}

/** A handler that records what it was given and acknowledged, failing records `failOnce` names once. */
function recorder(failOnce = new Set<string>(), slowMs = 0) {
  const acked: Delivery[] = [];
  const seen: string[] = [];
  const batches: SqsFifoEvent["Records"][] = [];
  const active = new Set<string>();
  let overlapped = false;
  const handler: SqsFifoHandler = async (event) => {
    batches.push(event.Records);
    const groups = new Set(event.Records.map((r) => r.attributes.MessageGroupId));
    for (const g of groups) overlapped ||= active.has(g);
    for (const g of groups) active.add(g);
    await new Promise((r) => setTimeout(r, slowMs));
    for (const g of groups) active.delete(g);
    for (const [i, r] of event.Records.entries()) {
      const rec = JSON.parse(r.body) as AuditRecord;
      seen.push(rec.eventId);
      if (failOnce.delete(rec.eventId))
        return { batchItemFailures: event.Records.slice(i).map((x) => ({ itemIdentifier: x.messageId })) };
      acked.push({ eventId: rec.eventId, chain: rec.chain });
    }
    return { batchItemFailures: [] };
  };
  const ids = (chain: string) => acked.filter((d) => d.chain === chain).map((d) => d.eventId);
  return { handler, acked, seen, batches, ids, overlapped: () => overlapped };
}

const eventIds = (records: AuditRecord[]) => records.map((r) => r.eventId);

export function auditQueueContract(name: string, makeHarness: () => Promise<AuditQueueHarness>): void {
  describe(`AuditQueue contract: ${name}`, () => {
    let h: AuditQueueHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    it("delivers each chain in order, ≤ 10 per batch, one batch per chain in flight", async () => {
      const [a, b] = [auditRecs("acme", 25), auditRecs("beta", 15)];
      const mixed = a.flatMap((r, i) => (b[i] ? [r, b[i]] : [r]));
      for (let i = 0; i < mixed.length; i += 10) await h.queue.enqueue(mixed.slice(i, i + 10));
      const rec = recorder(undefined, 5);
      const consumer = h.consume(rec.handler);
      expect(await consumer.drain(15_000)).toBe(true);
      await consumer.stop();
      expect(rec.ids("acme")).toEqual(eventIds(a));
      expect(rec.ids("beta")).toEqual(eventIds(b));
      expect(Math.max(...rec.batches.map((x) => x.length))).toBe(10);
      expect(rec.overlapped()).toBe(false);
    });

    it("delivers a record once however often it is enqueued", async () => {
      const [r1, r2, r3] = auditRecs("acme", 3);
      await h.queue.enqueue([r1!, r2!, r1!]);
      await h.queue.enqueue([r2!, r3!]);
      const rec = recorder();
      const consumer = h.consume(rec.handler);
      expect(await consumer.drain(10_000)).toBe(true);
      await consumer.stop();
      expect(rec.ids("acme")).toEqual(["acme-e1", "acme-e2", "acme-e3"]);
      expect(rec.seen).toEqual(["acme-e1", "acme-e2", "acme-e3"]);
    });

    it("keeps a failed record and the rest of its chain queued, and redelivers them in order", async () => {
      const records = auditRecs("acme", 12);
      await h.queue.enqueue(records);
      const rec = recorder(new Set(["acme-e6"]));
      const consumer = h.consume(rec.handler);
      expect(await consumer.drain(15_000)).toBe(true);
      await consumer.stop();
      expect(rec.ids("acme")).toEqual(eventIds(records));
      // e1..e5 were acknowledged by the partial response; e6 onwards came again.
      expect(rec.seen.filter((id) => id === "acme-e5")).toHaveLength(1);
      expect(rec.seen.filter((id) => id === "acme-e6")).toHaveLength(2);
      const again = rec.seen.lastIndexOf("acme-e6");
      expect(rec.seen.slice(again, again + 5)).toEqual(eventIds(records.slice(5, 10)));
    });

    it("retries enqueue through an outage and loses nothing", async () => {
      const rec = recorder();
      const consumer = h.consume(rec.handler);
      const before = auditRecs("acme", 3);
      await h.queue.enqueue(before);
      expect(await consumer.drain(10_000)).toBe(true);
      const end = await h.outage();
      const during = auditRecs("acme", 12, 4);
      let settled = false;
      const pending = h.queue.enqueue(during).finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 400));
      expect(settled).toBe(false);
      await end();
      await pending;
      expect(await consumer.drain(15_000)).toBe(true);
      await consumer.stop();
      expect(rec.ids("acme")).toEqual(eventIds([...before, ...during]));
    });

    it("rejects, naming every record, once the retries are spent", async () => {
      const end = await h.outage();
      try {
        const records = auditRecs("acme", 3);
        const err = await h.fragileQueue.enqueue(records).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AuditEnqueueError);
        expect((err as AuditEnqueueError).eventIds).toEqual(eventIds(records));
      } finally {
        await end();
      }
    });
  });
}
