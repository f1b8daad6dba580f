import { matches } from "./pattern.ts";
import type { EventEnvelope, EventPattern, Subscription } from "./port.ts";
import type { OutboxRow } from "./sqlite-outbox.ts";

/** A subscription as the local bus applies it to outbox rows. */
export interface SubscriptionMatch {
  /** The row as an envelope when the subscription's pattern matches it, else undefined. */
  match(row: OutboxRow): EventEnvelope | undefined;
  /** The event's order key (Subscription.orderKey); without one, every event is a key of its own. */
  keyOf(env: EventEnvelope, seq: number): string;
}

export function subscriptionMatch(sub: Subscription, region: string, account: string): SubscriptionMatch {
  // The pattern without its `detail` rule, and that rule: AND-ed, so they can be checked apart.
  const { detail: detailRule, ...head } = sub.pattern;
  const orderKey = sub.orderKey;
  return {
    // The envelope's own fields are checked first, from the row's columns: a subscription that does not
    // take this kind of event (the alerts one, for usage events) costs no parse of the detail.
    match(row) {
      const env: Omit<EventEnvelope, "detail"> & { detail?: Record<string, unknown> } = {
        version: "0",
        id: row.id,
        "detail-type": row.detail_type,
        source: row.source,
        account,
        time: wholeSeconds(row.time),
        region,
        resources: [],
      };
      if (!matches(head, env)) return undefined;
      env.detail = JSON.parse(row.detail) as Record<string, unknown>;
      if (detailRule && !matches({ detail: detailRule } as EventPattern, env)) return undefined;
      return env as EventEnvelope;
    },
    keyOf: (env, seq) => (orderKey ? `k\u0000${orderKey(env)}` : `s\u0000${seq}`),
  };
}

/**
 * EventBridge writes an envelope's `time` in whole seconds ("2017-12-22T18:43:48Z", the Time a PutEvents
 * entry gives cut to the second); the outbox keeps the event's own, with milliseconds.
 */
const wholeSeconds = (time: string): string => time.replace(/\.\d+Z$/, "Z");
