import { Writable } from "node:stream";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { expect } from "vitest";
import type { ResponseStream } from "../../functions/local/lambda-runtime.ts";

/** The API key the handler tests bootstrap. */
export const KEY = "sk-gw-router-test";

/** Collects exactly the bytes the handler writes, as Lambda's runtime receives them. */
export class CollectingStream extends Writable implements ResponseStream {
  contentType = "";
  chunks: Buffer[] = [];
  beforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
  private first = true;
  setContentType(type: string) {
    this.contentType = type;
  }
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void) {
    if (this.first) {
      this.first = false;
      this.beforeFirstWrite?.((c) => this.chunks.push(Buffer.from(c)));
    }
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get bytes() {
    return Buffer.concat(this.chunks);
  }
}

export function restEvent(path: string, body: unknown, method = "POST", key = KEY): APIGatewayProxyEvent {
  return {
    resource: "/{proxy+}",
    path,
    httpMethod: method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: "req-from-api-gateway",
      stage: "prod",
    } as APIGatewayProxyEvent["requestContext"],
  };
}

/** Splits `<prelude JSON><8 NUL><body>` and checks the delimiter is exactly there. */
export function unframe(bytes: Buffer) {
  const end = bytes.indexOf(Buffer.alloc(8));
  expect(end).toBeGreaterThan(0);
  const prelude = JSON.parse(bytes.subarray(0, end).toString("utf8")) as {
    statusCode: number;
    headers: Record<string, string>;
  };
  return { prelude, body: bytes.subarray(end + 8).toString("utf8") };
}
