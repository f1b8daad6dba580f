import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { detailWithEventId } from "./event-id.ts";
import type { EventPublisher, GatewayEvent } from "./port.ts";
import { PublishError } from "./port.ts";

/**
 * PutEvents limits (API reference, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html):
 * at most 10 entries per request, and the total entry size must be under 256 KB, computed as in
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html (Time counts 14 bytes;
 * Source, DetailType, Detail and each Resource count their UTF-8 bytes).
 */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_BATCH_BYTES = 256 * 1024;
const TIME_BYTES = 14;

/**
 * Per-entry ErrorCodes worth retrying: the API reference lists InternalFailure and ThrottlingException as
 * retryable; the rest (InvalidArgument, MalformedDetail, AccessDeniedException, ...) fail the same way
 * again, so they go straight into the PublishError.
 */
const RETRYABLE_ENTRY_CODES = new Set(["InternalFailure", "ThrottlingException"]);

export interface EventBridgePublisherOptions {
  /** Rounds of PutEvents per event (first try included). */
  maxAttempts?: number;
  /** Backoff base: round n waits a random time up to baseDelayMs * 2^(n-1) ("full jitter"), capped at 20 s. */
  baseDelayMs?: number;
  /**
   * No round starts after this long (default 10 s): the router publishes after its response, and every
   * second spent retrying holds its Lambda environment, one invocation at a time, from other requests.
   */
  deadlineMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

interface Pending {
  id: string;
  entry: PutEventsRequestEntry;
  bytes: number;
}

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

function toPending(event: GatewayEvent, busName: string): Pending {
  const time = new Date(event.time);
  const entry: PutEventsRequestEntry = {
    EventBusName: busName,
    Source: event.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(detailWithEventId(event)),
    // An unparseable time is left out (EventBridge then stamps the time of the call) rather than
    // failing serialization on every retry.
    Time: Number.isNaN(time.getTime()) ? undefined : time,
  };
  const bytes =
    (entry.Time ? TIME_BYTES : 0) + utf8(event.source) + utf8(event.detailType) + utf8(entry.Detail ?? "");
  return { id: event.id, entry, bytes };
}

/** Groups entries into calls of at most 10 entries and under 256 KB each, keeping publication order. */
function batches(pending: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let size = 0;
  for (const p of pending) {
    if (current.length === MAX_ENTRIES_PER_CALL || size + p.bytes >= MAX_BATCH_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(p);
    size += p.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

interface SdkError {
  name?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Throttling, 5xx and network failures (no HTTP status at all) are worth another round; 4xx are not. */
function retryableCall(err: unknown): boolean {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkError;
  if (e.$retryable) return true;
  if (e.name && /Throttl|InternalException|InternalFailure|ServiceUnavailable/.test(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function createEventBridgePublisher(
  client: EventBridgeClient,
  busName: string,
  opts: EventBridgePublisherOptions = {},
): EventPublisher {
  const maxAttempts = opts.maxAttempts ?? 8;
  const baseDelayMs = opts.baseDelayMs ?? 100;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const now = opts.now ?? Date.now;

  return {
    async publish(events: GatewayEvent[]): Promise<void> {
      const started = now();
      // Permanent failures: never retried, always reported.
      const failed = new Map<string, string>();
      let pending: Pending[] = [];
      for (const event of events) {
        const p = toPending(event, busName);
        if (p.bytes >= MAX_BATCH_BYTES) failed.set(p.id, "entry of 256 KB or more: PutEvents takes less");
        else pending.push(p);
      }

      for (let attempt = 1; pending.length > 0; attempt++) {
        const retry: Pending[] = [];
        let lastError = "";
        for (const batch of batches(pending)) {
          try {
            const res = await client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) }));
            // The response Entries array is index-aligned with the request (PutEvents API reference).
            batch.forEach((p, i) => {
              const result = res.Entries?.[i];
              if (result?.EventId && !result.ErrorCode) return;
              const code = result?.ErrorCode ?? "MissingResultEntry";
              lastError = `${code}: ${result?.ErrorMessage ?? ""}`;
              if (RETRYABLE_ENTRY_CODES.has(code) || !result) retry.push(p);
              else failed.set(p.id, lastError);
            });
          } catch (err) {
            lastError = describe(err);
            if (retryableCall(err)) retry.push(...batch);
            else for (const p of batch) failed.set(p.id, lastError);
          }
        }
        pending = retry;
        if (pending.length === 0) break;
        const delay = Math.random() * Math.min(20_000, baseDelayMs * 2 ** (attempt - 1));
        if (attempt >= maxAttempts || now() - started + delay >= deadlineMs) {
          for (const p of pending) failed.set(p.id, `still failing after ${attempt} attempts: ${lastError}`);
          break;
        }
        await sleep(delay);
      }

      if (failed.size > 0) {
        const ids = [...failed.keys()];
        const reasons = [...new Set(failed.values())].join("; ");
        throw new PublishError(
          `EventBridge did not accept ${ids.length} event(s) (${ids.join(", ")}): ${reasons}`,
          ids,
        );
      }
    },
  };
}
