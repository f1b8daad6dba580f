import type { APIGatewayProxyEvent } from "aws-lambda";
import { GatewayError } from "./errors.ts";

/**
 * The request body as text, for the router and the admin API alike. API Gateway base64-encodes bodies
 * it takes for binary; past `limit` bytes the body is a 413 (`limitText` says the limit). A compressed
 * body is a 415: bodies are read as sent, and gzip bytes would otherwise surface as invalid JSON.
 * `headers` are lower-cased (normalizeHeaders).
 */
export function requestBodyText(
  event: APIGatewayProxyEvent,
  headers: Record<string, string>,
  limit: number,
  limitText: string,
): string {
  const encoding = headers["content-encoding"]?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw new GatewayError(
      415,
      "invalid_request_error",
      `Content-Encoding '${encoding.slice(0, 40)}' is not supported; send the request body uncompressed.`,
      { code: "unsupported_content_encoding" },
    );
  }
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text, "utf8") > limit) {
    throw new GatewayError(413, "invalid_request_error", limitText, { code: "request_too_large" });
  }
  return text;
}
