import { randomUUID } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import { EventBridgeClient, type EventBridgeClientConfig } from "@aws-sdk/client-eventbridge";
import { readAwsJsonBody, sendAwsJson } from "./aws-json.ts";
import { startLoopback } from "./loopback-server.ts";

/**
 * A small EventBridge emulator speaking the AWS JSON 1.1 protocol that @aws-sdk/client-eventbridge uses:
 * POST / with `X-Amz-Target: AWSEvents.<Operation>` and `Content-Type: application/x-amz-json-1.1`;
 * errors are `{ "__type", "message" }` with a 4xx/5xx status. Only PutEvents is implemented, with the
 * service's validation (API reference, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html):
 * 1..10 entries per call, else ValidationException; an entry without Source, DetailType or Detail fails
 * alone with InvalidArgument; a Detail that is not a JSON object fails with MalformedDetail.
 */

export interface RecordedEvent {
  eventId: string;
  bus: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  time: string;
}

export interface EventBridgeEmulator {
  readonly endpoint: string;
  readonly port: number;
  /** Accepted events, in acceptance order. */
  readonly events: RecordedEvent[];
  /** Entry count of every PutEvents call that reached the handler (failed ones included). */
  readonly calls: number[];
  client(overrides?: Partial<EventBridgeClientConfig>): EventBridgeClient;
  /** The next n entries (across calls) fail individually with `code`. */
  failEntries(n: number, code?: string): void;
  /** The next n calls fail whole: 500 InternalException by default, 400 ThrottlingException for 400. */
  failCalls(n: number, status?: number, type?: string): void;
  /** Closes the listener and every connection: clients then get connection refused. */
  stop(): Promise<void>;
  /** Listens again on the same port (recorded events are kept). */
  restart(): Promise<void>;
  reset(): void;
}

/** PutEvents' total-size limit: the entries must total less than 256 KB. */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ENTRIES = 10;

const error = (res: ServerResponse, status: number, type: string, message: string) =>
  sendAwsJson(res, status, { __type: type, message });

type Entry = Record<string, unknown>;

/** Time counts 14 bytes; Source, DetailType and Detail their UTF-8 bytes (eb-putevent-size.html). */
const entrySize = (e: Entry) =>
  (e.Time === undefined ? 0 : 14) +
  ["Source", "DetailType", "Detail"].reduce((s, k) => s + Buffer.byteLength(String(e[k] ?? "")), 0);

/** The Detail as a JSON object, or null: the service rejects anything else as MalformedDetail. */
function parseDetail(detail: unknown): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(String(detail));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Entry) : null;
  } catch {
    return null;
  }
}

const TOO_MANY =
  "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10";

const TOO_BIG = "Total size of the entries in the request is over the limit.";
const INVALID_ENTRY = "Parameter(s) Source, DetailType, Detail is not valid.";

export async function startEventBridgeEmulator(): Promise<EventBridgeEmulator> {
  const events: RecordedEvent[] = [];
  const calls: number[] = [];
  let entryFaults = 0;
  let entryFaultCode = "ThrottlingException";
  const callFaults: Array<{ status: number; type: string }> = [];

  /** One entry's result: its EventId once recorded, or its per-entry error. */
  const accept = (e: Entry) => {
    if (!e.Source || !e.DetailType || e.Detail === undefined) {
      return { ErrorCode: "InvalidArgument", ErrorMessage: INVALID_ENTRY };
    }
    const detail = parseDetail(e.Detail);
    if (!detail) return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    if (entryFaults > 0) {
      entryFaults--;
      return { ErrorCode: entryFaultCode, ErrorMessage: "Rate exceeded." };
    }
    const eventId = randomUUID();
    // The SDK serializes Time as epoch seconds.
    const seconds = typeof e.Time === "number" ? e.Time : Date.now() / 1000;
    const bus = typeof e.EventBusName === "string" ? e.EventBusName : "default";
    const time = new Date(seconds * 1000).toISOString();
    events.push({ eventId, bus, source: String(e.Source), detailType: String(e.DetailType), detail, time });
    return { EventId: eventId };
  };

  const putEvents = (res: ServerResponse, entries: unknown) => {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      return error(res, 400, "ValidationException", TOO_MANY);
    }
    calls.push(entries.length);
    const fault = callFaults.shift();
    if (fault) return error(res, fault.status, fault.type, "Injected fault");
    if ((entries as Entry[]).reduce((sum, e) => sum + entrySize(e), 0) >= MAX_BATCH_BYTES) {
      return error(res, 400, "ValidationException", TOO_BIG);
    }
    const results = (entries as Entry[]).map(accept);
    sendAwsJson(res, 200, {
      FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
      Entries: results,
    });
  };

  const server: Server = createServer((req, res) => {
    readAwsJsonBody(req)
      .then((text) => {
        const target = String(req.headers["x-amz-target"] ?? "");
        if (req.method !== "POST" || target !== "AWSEvents.PutEvents") {
          return error(res, 400, "UnknownOperationException", `Unsupported operation ${target}`);
        }
        const body = parseDetail(text);
        if (!body) return error(res, 400, "SerializationException", "Request body is not a JSON object");
        putEvents(res, body.Entries);
      })
      .catch((err: unknown) => error(res, 500, "InternalException", String(err)));
  });

  const { port, endpoint, stop, restart } = await startLoopback(server);

  return {
    endpoint,
    port,
    events,
    calls,
    client: (overrides = {}) =>
      new EventBridgeClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        ...overrides,
      }),
    failEntries(n, code = "ThrottlingException") {
      entryFaults = n;
      entryFaultCode = code;
    },
    failCalls(n, status = 500, type) {
      const t = type ?? (status === 400 ? "ThrottlingException" : "InternalException");
      for (let i = 0; i < n; i++) callFaults.push({ status, type: t });
    },
    stop,
    restart,
    reset() {
      events.length = 0;
      calls.length = 0;
      entryFaults = 0;
      callFaults.length = 0;
    },
  };
}
