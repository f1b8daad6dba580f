import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/api/errors.ts";
import { requestBodyText } from "../../../core/api/request-body.ts";

const event = (body: string | null, isBase64Encoded = false) =>
  ({ body, isBase64Encoded }) as unknown as APIGatewayProxyEvent;

const read = (e: APIGatewayProxyEvent, headers: Record<string, string> = {}, limit = 16) =>
  requestBodyText(e, headers, limit, "over the limit");

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return [err.status, err.code, err.message];
    throw err;
  }
  throw new Error("expected a refusal");
};

describe("the request body as text", () => {
  it.each<[string, APIGatewayProxyEvent, Record<string, string>, string]>([
    ["a plain body", event('{"a":1}'), {}, '{"a":1}'],
    [
      "a body API Gateway base64-encoded",
      event(Buffer.from('{"é":1}').toString("base64"), true),
      {},
      '{"é":1}',
    ],
    ["no body", event(null), {}, ""],
    ["a body sent with the identity encoding", event("{}"), { "content-encoding": "identity" }, "{}"],
    ...[
      "application/json",
      "application/json; charset=utf-8",
      'application/JSON;charset="UTF-8"',
      "application/json; charset=utf8",
      "application/merge-patch+json",
      "",
    ].map((type): [string, APIGatewayProxyEvent, Record<string, string>, string] => [
      `a body sent as '${type}'`,
      event("{}"),
      { "content-type": type },
      "{}",
    ]),
  ])("reads %s", (_, e, headers, text) => {
    expect(read(e, headers)).toBe(text);
  });

  it.each(["gzip", "GZIP", "br", "deflate, gzip"])(
    "refuses a body sent with Content-Encoding %s as 415",
    (enc) => {
      const [status, code, message] = refusal(() => read(event("{}"), { "content-encoding": enc }));
      expect([status, code]).toEqual([415, "unsupported_content_encoding"]);
      expect(message).toContain(enc.toLowerCase());
    },
  );

  it.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=iso-8859-1",
    "application/jsonp",
  ])("refuses a body sent as %s with 415", (type) => {
    expect(refusal(() => read(event("{}"), { "content-type": type }))?.slice(0, 2)).toEqual([
      415,
      "unsupported_media_type",
    ]);
  });

  it("refuses bytes that are not UTF-8 with 400 invalid_json, rather than replacing them", () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString("base64");
    expect(refusal(() => read(event(bytes, true)))?.slice(0, 2)).toEqual([400, "invalid_json"]);
  });

  it("refuses a body past the limit in bytes, not characters, with the caller's wording", () => {
    expect(read(event("é".repeat(8)))).toHaveLength(8);
    expect(refusal(() => read(event("é".repeat(9))))).toEqual([413, "request_too_large", "over the limit"]);
  });
});
