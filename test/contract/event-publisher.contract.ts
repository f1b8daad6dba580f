import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventPublisher, GatewayEvent } from "../../core/events/port.ts";
import { USAGE_DETAIL_TYPE, usageDetail } from "../../core/events/usage.ts";
import { usage } from "../fixtures/usage.ts";

/** What a consumer of the bus saw: the EventBridge envelope fields a target reads. */
export interface ReceivedEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

export interface PublisherHarness {
  publisher: EventPublisher;
  /** Everything delivered to consumers (local bus) or accepted by EventBridge, once delivery settled. */
  received(): Promise<ReceivedEvent[]>;
  close(): Promise<void>;
}

const usageEvent = (requestId: string): GatewayEvent => ({
  id: requestId,
  source: "llm-gateway",
  detailType: USAGE_DETAIL_TYPE,
  detail: usage(requestId),
  time: "2025-01-02T03:04:05.000Z",
});

/**
 * The EventPublisher contract: every published event reaches consumers (at least once), and the
 * gateway id travels in `detail.eventId`, the one field consumers deduplicate on with either adapter.
 */
export function eventPublisherContract(name: string, makeHarness: () => Promise<PublisherHarness>): void {
  describe(`EventPublisher contract: ${name}`, () => {
    let h: PublisherHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    it("delivers every published event, across calls and batch boundaries", async () => {
      const ids = Array.from({ length: 23 }, (_, i) => `req-${i}`);
      await h.publisher.publish(ids.slice(0, 1).map(usageEvent));
      await h.publisher.publish(ids.slice(1).map(usageEvent));
      const got = (await h.received()).map((e) => e.detail.eventId);
      expect(new Set(got)).toEqual(new Set(ids));
    });

    it("carries the gateway id in detail.eventId, with source, detail-type and detail intact", async () => {
      await h.publisher.publish([usageEvent("req-a")]);
      const [got] = await h.received();
      expect(got).toEqual({
        source: "llm-gateway",
        detailType: USAGE_DETAIL_TYPE,
        detail: { ...usage("req-a"), eventId: "req-a" },
      });
      expect(usageDetail.parse(got?.detail)).toEqual(usage("req-a"));
    });

    it("resolves an empty publish without delivering anything", async () => {
      await h.publisher.publish([]);
      expect(await h.received()).toEqual([]);
    });
  });
}
