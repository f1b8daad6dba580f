import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError, toGatewayError } from "../../core/api/errors.ts";
import { normalizeHeaders } from "../../core/gateway/http.ts";
import { headersOf } from "./proxy-event.ts";
import { nextRequestId } from "./request-id.ts";

/** What the portable host needs of the Prometheus registry to serve `GET /metrics`. */
export interface MetricsEndpoint {
  render(): Promise<string>;
  contentType: string;
  /** Admits admin keys only, and throws the error the caller gets otherwise; `requestId` is the response's. */
  authorize(headers: Record<string, string>, requestId: string): Promise<unknown>;
}

/** `GET /metrics` (HEAD too), the host's own endpoint; with a request id like every other response. */
export async function serveMetrics(
  metrics: MetricsEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = nextRequestId();
  const id = { "x-request-id": requestId };
  const fail = (e: ReturnType<typeof toGatewayError>) => {
    res.writeHead(e.status, { "content-type": "application/json", ...e.headers, ...id });
    res.end(JSON.stringify(e.toEnvelope()));
  };
  if (req.method !== "GET" && req.method !== "HEAD") {
    return fail(
      new GatewayError(
        405,
        "invalid_request_error",
        `Method ${req.method} is not allowed on /metrics; use GET.`,
        {
          code: "method_not_allowed",
          headers: { allow: "GET, HEAD" },
        },
      ),
    );
  }
  try {
    // Read as the API's routes read them: a header sent twice is its distinct values joined.
    const { headers, multiValueHeaders } = headersOf(req);
    await metrics.authorize(normalizeHeaders(headers, multiValueHeaders), requestId);
  } catch (err) {
    return fail(toGatewayError(err));
  }
  const text = await metrics.render();
  res.writeHead(200, { "content-type": metrics.contentType, ...id });
  res.end(text);
}
