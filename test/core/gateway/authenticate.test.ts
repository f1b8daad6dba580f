import type { DatabaseSync } from "node:sqlite";
import { beforeEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../../core/api/errors.ts";
import { authenticate, presentedKey } from "../../../core/gateway/authenticate.ts";
import type { KeyStore } from "../../../core/keys/port.ts";
import { generateKey, KEY_PREFIX, sameDigest, sha256Hex } from "../../../core/keys/secret.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";

let db: DatabaseSync;
let store: KeyStore;
const secret = generateKey();

beforeEach(async () => {
  db = openDatabase(":memory:");
  store = createSqliteKeyStore(db);
  await store.put({
    id: "k1",
    org: "acme",
    role: "api",
    name: "ci",
    sha256: sha256Hex(secret),
    models: ["smart"],
    createdAt: "2025-01-01T00:00:00.000Z",
  });
});

async function rejection(headers: Record<string, string>): Promise<GatewayError> {
  const err = await authenticate(headers, store).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("authenticate", () => {
  it.each([
    ["a Bearer authorization header", { authorization: `Bearer ${secret}` }],
    ["a lowercase bearer scheme", { authorization: `bearer ${secret}` }],
    ["extra spaces around the key", { authorization: `Bearer   ${secret}  ` }],
    ["an x-api-key header", { "x-api-key": secret }],
    ["an x-api-key header with surrounding spaces", { "x-api-key": ` ${secret} ` }],
  ])("accepts the key in %s", async (_how, headers) => {
    await expect(authenticate(headers, store)).resolves.toEqual({
      id: "k1",
      org: "acme",
      role: "api",
      name: "ci",
      sha256: sha256Hex(secret),
      models: ["smart"],
      createdAt: "2025-01-01T00:00:00.000Z",
    });
  });

  it("answers 401 explaining how to send a key when none is given", async () => {
    const err = await rejection({});
    expect(err).toMatchObject({ status: 401, type: "authentication_error", code: "invalid_api_key" });
    expect(err.message).toMatch(/didn't provide an API key.*Authorization: Bearer/);
  });

  it.each([
    ["an empty x-api-key", { "x-api-key": "  " }],
    ["a Basic authorization header", { authorization: `Basic ${Buffer.from("u:p").toString("base64")}` }],
  ])("answers 401 missing-key for %s", async (_how, headers) => {
    const err = await rejection(headers);
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/didn't provide an API key/);
  });

  it.each([
    ["a Bearer header without a key", { authorization: "Bearer " }],
    ["a Bearer header with two tokens", { authorization: `Bearer ${secret} extra` }],
    [
      "two Bearer headers joined, next to a right x-api-key",
      { authorization: `Bearer ${secret}, Bearer other`, "x-api-key": secret },
    ],
    [
      "a Basic line and a Bearer line joined, next to a right x-api-key",
      { authorization: "Basic dXNlcjpwYXNz, Bearer other", "x-api-key": secret },
    ],
    ["an empty line and a Bearer line joined", { authorization: ", Bearer other", "x-api-key": secret }],
    [
      "a right Bearer key beside another x-api-key",
      { authorization: `Bearer ${secret}`, "x-api-key": "other" },
    ],
  ])("answers 401 for %s, which is not one key", async (_how, headers) => {
    const err = await rejection(headers);
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/must hold one Bearer key/);
  });

  it.each([
    ["an unknown key", { authorization: `Bearer ${generateKey()}` }],
    ["the key's digest instead of the key", { authorization: `Bearer ${sha256Hex(secret)}` }],
    ["a truncated key", { "x-api-key": secret.slice(0, -1) }],
  ])("answers 401 incorrect-key for %s", async (_how, headers) => {
    const err = await rejection(headers);
    expect(err).toMatchObject({
      status: 401,
      message: "Incorrect API key provided.",
      code: "invalid_api_key",
    });
  });

  it("stores only the SHA-256 of a key, never the key itself", () => {
    const rows = db.prepare("SELECT * FROM api_keys").all();
    expect(rows).toHaveLength(1);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(KEY_PREFIX.length));
    expect(dump).toContain(sha256Hex(secret));
  });
});

describe("presentedKey", () => {
  it("takes one key sent in both headers, and none when the two differ", () => {
    expect(presentedKey({ authorization: "Bearer a", "x-api-key": "a" })).toBe("a");
    expect(presentedKey({ authorization: "Bearer a", "x-api-key": "b" })).toBeNull();
  });

  it("returns undefined when no header is given", () => {
    expect(presentedKey({})).toBeUndefined();
  });

  it.each([
    ["a proxy's Basic credentials", "Basic dXNlcjpwYXNz", "b"],
    ["a malformed bearer", "Bearer", "b"],
  ])("takes x-api-key beside %s in Authorization", (_, authorization, expected) => {
    expect(presentedKey({ authorization, "x-api-key": expected })).toBe(expected);
  });

  it("finds no key in an Authorization of another scheme alone", () => {
    expect(presentedKey({ authorization: "Basic dXNlcjpwYXNz" })).toBeUndefined();
  });
});

describe("generateKey", () => {
  it("makes sk-gw- keys carrying 256 bits of base64url", () => {
    const key = generateKey();
    expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(KEY_PREFIX.length), "base64url")).toHaveLength(32);
  });

  it("never repeats a key", () => {
    const keys = new Set(Array.from({ length: 200 }, generateKey));
    expect(keys.size).toBe(200);
  });
});

describe("sha256Hex", () => {
  it("hashes to lowercase hex", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("sameDigest", () => {
  const a = sha256Hex("a");
  it.each([
    ["equal digests", a, a, true],
    ["equal digests in different case", a, a.toUpperCase(), true],
    ["different digests", a, sha256Hex("b"), false],
    ["digests of different length", a, a.slice(0, 62), false],
    ["two empty strings", "", "", false],
    ["non-hex text", "zz", "zz", false],
  ])("compares %s", (_what, x, y, same) => {
    expect(sameDigest(x, y)).toBe(same);
  });
});
