import { isUtf8 } from "node:buffer";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { badRequest, GatewayError } from "./errors.ts";

/**
 * JSON media types: `application/json` and the `+json` suffix (RFC 6839), with no charset or UTF-8
 * (RFC 8259 §8.1: JSON between systems is UTF-8; `utf8` is a label the WHATWG Encoding standard gives it).
 */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/**
 * The request body as text, for the router and the admin API alike. API Gateway base64-encodes bodies
 * it takes for binary; past `limit` bytes the body is a 413 (`limitText` says the limit). A compressed
 * body is a 415: bodies are read as sent, and gzip bytes would otherwise surface as invalid JSON. So is
 * a body that says it is not JSON (`text/plain`, a form, as `curl -d` without `-H` labels it, another
 * charset); one that says nothing is read as JSON (a hand-written request). Bytes that are not UTF-8 are a 400, never
 * replaced with U+FFFD and sent on. `headers` are lower-cased (normalizeHeaders).
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
  const type = headers["content-type"];
  if (type !== undefined && type.trim() !== "" && !JSON_MEDIA_TYPE.test(type)) {
    throw new GatewayError(
      415,
      "invalid_request_error",
      `Content-Type '${type.slice(0, 60)}' is not supported; send application/json (UTF-8).`,
      { code: "unsupported_media_type" },
    );
  }
  const raw = event.body ?? "";
  let text = raw;
  if (event.isBase64Encoded) {
    const bytes = Buffer.from(raw, "base64");
    if (!isUtf8(bytes))
      throw badRequest("The request body is not valid UTF-8, which JSON must be.", null, "invalid_json");
    text = bytes.toString("utf8");
  }
  if (Buffer.byteLength(text, "utf8") > limit) {
    throw new GatewayError(413, "invalid_request_error", limitText, { code: "request_too_large" });
  }
  return text;
}
