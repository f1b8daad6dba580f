/**
 * A gateway event in EventBridge's terms. `id` is chosen by the gateway (the request id for usage
 * events) so every consumer can deduplicate: delivery is at least once everywhere.
 */
export interface GatewayEvent {
  id: string;
  /** Always "llm-gateway". */
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  time: string;
}

/**
 * Publishes events durably. Resolves once every event is accepted (EventBridge: after retrying partial
 * failures; local bus: written to the SQLite outbox). Rejects with PublishError only after retries are
 * exhausted, naming the events not accepted, so the caller can log them: an event is never dropped
 * silently.
 */
export interface EventPublisher {
  publish(events: GatewayEvent[]): Promise<void>;
  /**
   * True when an id published again delivers nothing new (the local bus's outbox keys events by id).
   * EventBridge delivers every PutEvents entry, whatever its id.
   */
  readonly dedupesIds?: boolean;
}

export class PublishError extends Error {
  readonly failedIds: string[];
  constructor(message: string, failedIds: string[]) {
    super(message);
    this.name = "PublishError";
    this.failedIds = failedIds;
  }
}

/** EventBridge's event pattern language (the subset the local bus supports, see pattern.ts). */
export type EventPattern = { [field: string]: EventPattern | PatternValue[] };
export type PatternValue =
  | string
  | number
  | boolean
  | null
  | { prefix: string }
  | { "anything-but": string | number | Array<string | number> | { prefix: string } }
  | { numeric: Array<string | number> }
  | { exists: boolean };

/** A subscriber of the local bus: a rule's pattern and its target. */
export interface Subscription {
  name: string;
  pattern: EventPattern;
  handle(envelope: EventEnvelope): Promise<void>;
  /**
   * Optional: the local bus hands a subscriber that has it every matching event of a delivery round at
   * once (EventBridge targets get one event per invocation). If it throws, the events are delivered one
   * by one through `handle`, with its retries.
   */
  handleBatch?(envelopes: EventEnvelope[]): Promise<void>;
  /**
   * Optional: events with one key are delivered in publication order, so a failing one holds back the
   * later ones with its key (and only those). Without it each event is retried on its own, as
   * EventBridge retries a target, and a failing event holds back nothing.
   */
  orderKey?(envelope: EventEnvelope): string;
}

/** The envelope a target receives, as EventBridge delivers it to Lambda. */
export interface EventEnvelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}
