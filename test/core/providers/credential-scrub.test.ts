import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/api/errors.ts";
import {
  errorWithoutCredentials,
  valueWithoutSecrets,
  withoutCredentials,
} from "../../../core/providers/credential-scrub.ts";

const KEY = "sk-provider-secret-123";

describe("withoutCredentials", () => {
  it.each([
    ["authorization", `Bearer ${KEY}`],
    ["x-api-key", KEY],
    ["x-goog-api-key", KEY],
  ])("masks the %s value wherever the text has it", (header, value) => {
    expect(withoutCredentials(`a ${KEY} and ${KEY}`, { [header]: value })).toBe(
      "a [REDACTED] and [REDACTED]",
    );
  });

  // As long as real keys are (OpenAI's are 51 characters and more, Gemini's 39).
  const LONG = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
  it.each([
    ["cut in the middle", `key ${LONG.slice(0, 18)}...${LONG.slice(-4)} is wrong`, "key [REDACTED] is wrong"],
    ["starred out after its head", `key ${LONG.slice(0, 16)}**********. Check it`, "key [REDACTED] Check it"],
    ["cut at the message's end", `invalid: ${LONG.slice(0, 16)}`, "invalid: [REDACTED]"],
  ])("masks a key echoed %s", (_how, text, want) => {
    expect(withoutCredentials(text, { authorization: `Bearer ${LONG}` })).toBe(want);
  });

  it("leaves a key's head alone when the key is too short for its head to mark it", () => {
    expect(withoutCredentials("a sk-short-key1 b", { "x-api-key": "sk-short-key1-xyz" })).toBe(
      "a sk-short-key1 b",
    );
  });

  const ANTHROPIC = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
  it("takes a key's head past the prefix every key of its kind has", () => {
    const headers = { "x-api-key": ANTHROPIC };
    expect(withoutCredentials("keys look like sk-ant-api03-..., yours is not one", headers)).toBe(
      "keys look like sk-ant-api03-..., yours is not one",
    );
    expect(withoutCredentials(`bad key ${ANTHROPIC.slice(0, 22)}***`, headers)).toBe("bad key [REDACTED]");
  });

  it("leaves a head in an answer's own text, which only an exact key is masked in", () => {
    const text = `export KEY=${LONG.slice(0, 20)}... and ${LONG}`;
    expect(withoutCredentials(text, { authorization: `Bearer ${LONG}` }, { cutShort: false })).toBe(
      `export KEY=${LONG.slice(0, 20)}... and [REDACTED]`,
    );
  });

  it("leaves values shorter than 8 characters, which would mangle ordinary words", () => {
    expect(withoutCredentials("a test b", { "x-api-key": "test" })).toBe("a test b");
  });
});

describe("errorWithoutCredentials", () => {
  it("masks the message, the parameter and a code taken from the provider's words", () => {
    const err = new GatewayError(502, "upstream_error", `failed: ${KEY}`, {
      param: `p-${KEY}`,
      code: `t-${KEY}`,
      headers: { "retry-after": "1" },
      routeAs: "upstream_http_error",
    });
    const out = errorWithoutCredentials(err, { authorization: `Bearer ${KEY}` });
    expect(out.toEnvelope()).toEqual({
      error: {
        message: "failed: [REDACTED]",
        type: "upstream_error",
        param: "p-[REDACTED]",
        code: "t-[REDACTED]",
      },
    });
    expect([out.status, out.headers, out.routeAs]).toEqual([
      502,
      { "retry-after": "1" },
      "upstream_http_error",
    ]);
  });

  it("gives back the error itself when nothing echoes the credential", () => {
    const err = new GatewayError(400, "invalid_request_error", "bad", { code: "x" });
    expect(errorWithoutCredentials(err, { authorization: `Bearer ${KEY}` })).toBe(err);
  });
});

describe("valueWithoutSecrets", () => {
  const secret = "sk-proj-ABCdef0123456789";

  it("masks a credential the provider's JSON spelled with escapes, in any field, once parsed", () => {
    const parsed = JSON.parse(
      '{"id":"\\u0073k-proj-ABCdef0123456789","choices":[{"message":{"content":"key: sk\\/proj-x and sk-proj-ABCdef0123456789"}}]}',
    ) as unknown;
    expect(valueWithoutSecrets(parsed, [secret])).toEqual({
      id: "[REDACTED]",
      choices: [{ message: { content: "key: sk/proj-x and [REDACTED]" } }],
    });
  });

  it("masks a credential behind an escape inside a string that is JSON itself (tool arguments)", () => {
    const args = '{"x":"\\u0073k-proj-ABCdef0123456789","n":1}';
    const out = valueWithoutSecrets({ arguments: args }, [secret]);
    expect(JSON.parse(out.arguments)).toEqual({ x: "[REDACTED]", n: 1 });
  });

  it("never touches the JSON's structure: a credential of digits leaves a timestamp as it is", () => {
    const value = { created: 1_700_000_000, id: "c-1700000000", text: "1700000000" };
    expect(valueWithoutSecrets(value, ["1700000000"])).toEqual({
      created: 1_700_000_000,
      id: "c-[REDACTED]",
      text: "[REDACTED]",
    });
  });

  it("masks a credential with a quote or a backslash in it", () => {
    const odd = 'sk-quote"in\\key12345';
    expect(valueWithoutSecrets({ content: `key ${odd}` }, [odd])).toEqual({ content: "key [REDACTED]" });
  });

  it("returns the value itself when no credential is in it", () => {
    const value = { a: ["b", { c: "d" }] };
    expect(valueWithoutSecrets(value, [secret])).toBe(value);
    expect(valueWithoutSecrets(value, [])).toBe(value);
  });
});
