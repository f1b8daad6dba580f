import { createHash } from "node:crypto";

/**
 * What the audit transport shares between its adapters (SQS FIFO, the portable SQLite queue) and the
 * writer: FIFO id rules, the shape a consumer is handed (the Lambda SQS event's), and the enqueue error.
 */

/**
 * SQS: MessageGroupId and MessageDeduplicationId are at most 128 characters of alphanumerics and
 * punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~). A value outside that rule is replaced by its hex
 * SHA-256 (64 characters), stable for the same input, so dedup and grouping still hold.
 */
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

export function fifoId(value: string): string {
  return FIFO_ID.test(value) ? value : createHash("sha256").update(value).digest("hex");
}

/** One message as a consumer receives it: the fields of a Lambda SQS FIFO record the writer uses. */
export interface SqsFifoRecord {
  messageId: string;
  body: string;
  attributes: {
    MessageGroupId: string;
    MessageDeduplicationId: string;
    SequenceNumber?: string;
    ApproximateReceiveCount?: string;
  };
}

export interface SqsFifoEvent {
  Records: SqsFifoRecord[];
}

/** Partial batch response: the listed records (and, in FIFO, every later one) stay in the queue. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type SqsFifoHandler = (event: SqsFifoEvent) => Promise<BatchResponse>;

/** Thrown when records could not be enqueued after every retry; names them, so the caller can log them. */
export class AuditEnqueueError extends Error {
  readonly eventIds: string[];
  constructor(eventIds: string[], cause: string) {
    super(`Could not enqueue audit records ${eventIds.join(", ")}: ${cause}`);
    this.name = "AuditEnqueueError";
    this.eventIds = eventIds;
  }
}

export interface RetryOptions {
  /** Attempts per record before enqueue rejects (default 8). */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt (full jitter) up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * No attempt starts after this long (default 10 s): the router enqueues after its response, and every
   * second spent retrying holds its Lambda environment from other requests.
   */
  deadlineMs?: number;
}

/** Exponential backoff with full jitter (the AWS recommendation for retried calls). */
export function backoffMs(attempt: number, opts: RetryOptions = {}): number {
  const cap = Math.min(opts.maxDelayMs ?? 5_000, (opts.baseDelayMs ?? 100) * 2 ** attempt);
  return Math.random() * cap;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
