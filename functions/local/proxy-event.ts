import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
// Time-ordered, so the SQLite tables keyed by request id grow at one end (request-id.ts).
import { nextRequestId } from "./request-id.ts";

/** Textual bodies pass as UTF-8 strings; anything else is base64, as API Gateway does for binary types. */
const TEXTUAL = /^(application\/(json|x-www-form-urlencoded|[\w.+-]*\+json)|text\/)/i;

/** A plain path (no query, dots or escapes) is already what URL parsing would give; most requests have one. */
const PLAIN_PATH = /^(\/[\w-]+)+\/?$|^\/$/;

/**
 * What URL parsing would resolve away: dot segments, plain or percent-encoded (`%2e%2e`), and
 * backslashes (read as slashes). `/v1/%2e%2e/admin/orgs` must not reach the admin API, nor
 * `/admin/orgs/acme/../beta` another org than the one it names to a proxy in front that routes by path.
 */
const RESOLVED = /(?:^|[/\\])(?:\.|%2e){1,2}(?:[/\\]|$)|\\/i;

/**
 * Path and query parameters as the WHATWG URL parser reads them, without parsing a plain path. A path
 * the parser would rewrite (RESOLVED) is kept as sent: no route matches it, and its 404 names it so.
 */
export function pathAndQuery(raw: string): {
  pathname: string;
  searchParams: Iterable<[string, string]>;
  size: number;
} {
  if (PLAIN_PATH.test(raw)) return { pathname: raw, searchParams: [], size: 0 };
  const url = new URL(raw, "http://localhost");
  const path = raw.split("?", 1)[0] ?? "";
  return {
    pathname: RESOLVED.test(path) ? path : url.pathname,
    searchParams: url.searchParams,
    size: url.searchParams.size,
  };
}

/**
 * A request's headers as API Gateway REST hands them over, from the lines as they came (Node's own
 * `req.headers` keeps the first of some repeated headers and joins others): `headers` holds each
 * name's last value, `multiValueHeaders` all of them.
 */
export function headersOf(req: IncomingMessage): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  // No prototype: a header named `constructor` or `__proto__` is a header like any other.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    const all = multiValueHeaders[name];
    if (all) all.push(value);
    else multiValueHeaders[name] = [value];
  }
  return { headers, multiValueHeaders };
}

/**
 * Builds the API Gateway REST (v1) proxy event for a node:http request, the same shape the Lambda
 * receives in AWS: single- and multi-value headers and query parameters, request context, body.
 */
export function toProxyEvent(req: IncomingMessage, body: Buffer, stage = "local"): APIGatewayProxyEvent {
  const url = pathAndQuery(req.url ?? "/");
  const { headers, multiValueHeaders } = headersOf(req);
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    const all = multiQuery[k];
    if (all) all.push(v);
    else multiQuery[k] = [v];
  }
  const now = Date.now();
  // Bytes that are not UTF-8 go as base64, so that the router sees them as they came (request-body.ts
  // refuses them) instead of U+FFFD in their place.
  const textual =
    body.length === 0 || (TEXTUAL.test(req.headers["content-type"] ?? "application/json") && isUtf8(body));
  const requestId = nextRequestId();
  return {
    resource: "/{proxy+}",
    path: url.pathname,
    httpMethod: req.method ?? "GET",
    headers,
    multiValueHeaders,
    queryStringParameters: url.size ? query : null,
    multiValueQueryStringParameters: url.size ? multiQuery : null,
    pathParameters: { proxy: url.pathname.replace(/^\//, "") },
    stageVariables: null,
    body: body.length === 0 ? null : textual ? body.toString("utf8") : body.toString("base64"),
    isBase64Encoded: !textual,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? "GET",
      path: `/${stage}${url.pathname}`,
      stage,
      requestId,
      requestTimeEpoch: now,
      resourceId: "local",
      resourcePath: "/{proxy+}",
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        user: null,
        userAgent: req.headers["user-agent"] ?? null,
        userArn: null,
      },
    },
  };
}
