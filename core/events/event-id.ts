import type { GatewayEvent } from "./port.ts";

/**
 * The detail as published, carrying the gateway's event id in `detail.eventId`.
 *
 * Why in the detail: EventBridge assigns every accepted entry its own envelope `id` (PutEvents returns it
 * as EventId), and a retried entry gets a new one, so the envelope id cannot deduplicate. The gateway id
 * (the request id for usage events) travels in the detail instead. The local bus uses the gateway id as
 * its envelope id too, but consumers should read `detail.eventId` so one field works on both buses.
 * An `eventId` already present in the detail is kept.
 */
export function detailWithEventId(event: GatewayEvent): Record<string, unknown> {
  return "eventId" in event.detail ? event.detail : { ...event.detail, eventId: event.id };
}
