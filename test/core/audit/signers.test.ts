import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKmsSigner, KMS_MAX_MESSAGE_BYTES } from "../../../core/audit/kms-signer.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { Signer } from "../../../core/audit/port.ts";
import { publicKeyFingerprint } from "../../../core/audit/signing.ts";
import { type KmsEmulator, sha256, startKmsEmulator } from "../../emulators/kms.ts";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "audit-signers-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MESSAGE = Buffer.from('{"chain":"org-acme","headHash":"00","seq":1,"time":"2025-01-01T00:00:00.000Z"}');

/** DER ECDSA signature over MESSAGE, verifiable with node:crypto and the exported SPKI PEM. */
async function expectVerifiable(signer: Signer) {
  const signature = await signer.sign(MESSAGE);
  const pem = await signer.publicKeyPem();
  expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  expect(verify("sha256", MESSAGE, { key: pem, dsaEncoding: "der" }, signature)).toBe(true);
  expect(verify("sha256", Buffer.from("other"), { key: pem, dsaEncoding: "der" }, signature)).toBe(false);
  expect(signature[0]).toBe(0x30); // DER SEQUENCE
}

/** `openssl dgst -sha256 -verify pub.pem -signature sig.der msg`, as the README documents. */
async function expectOpensslVerifies(signer: Signer) {
  const dir = tempDir();
  writeFileSync(join(dir, "pub.pem"), await signer.publicKeyPem());
  writeFileSync(join(dir, "sig.der"), await signer.sign(MESSAGE));
  writeFileSync(join(dir, "msg"), MESSAGE);
  const args = ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "msg"];
  expect(execFileSync("openssl", args, { cwd: dir }).toString()).toMatch(/Verified OK/);
  writeFileSync(join(dir, "msg"), "tampered");
  const bad = spawnSync("openssl", args, { cwd: dir });
  expect(bad.status).toBe(1);
  expect(`${bad.stdout}${bad.stderr}`).toMatch(/Verification failure/);
}

describe("local signer", () => {
  it("creates a P-256 key file with mode 0600 and signs verifiably", async () => {
    const file = join(tempDir(), "nested", "audit-signing-key.pem");
    const signer = await createLocalSigner(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    await expectVerifiable(signer);
  });

  it.skipIf(!hasOpenssl)("its signatures verify with openssl dgst", async () => {
    await expectOpensslVerifies(await createLocalSigner(join(tempDir(), "k.pem")));
  });

  it("reuses an existing key file: same keyId and public key", async () => {
    const file = join(tempDir(), "k.pem");
    const a = await createLocalSigner(file);
    const b = await createLocalSigner(file);
    expect(b.keyId).toBe(a.keyId);
    expect(await b.publicKeyPem()).toBe(await a.publicKeyPem());
  });

  it("keyId is local: + SHA-256 of the SPKI DER", async () => {
    const signer = await createLocalSigner(join(tempDir(), "k.pem"));
    const der = createPublicKey(await signer.publicKeyPem()).export({ type: "spki", format: "der" });
    expect(signer.keyId).toBe(`local:${createHash("sha256").update(der).digest("hex")}`);
    expect(signer.keyId).toBe(`local:${publicKeyFingerprint(await signer.publicKeyPem())}`);
  });

  it("two signers racing to create the key file agree on one key", async () => {
    const file = join(tempDir(), "race.pem");
    const [a, b] = await Promise.all([createLocalSigner(file), createLocalSigner(file)]);
    expect(a.keyId).toBe(b.keyId);
  });

  it("refuses a key file that is not EC P-256", async () => {
    const file = join(tempDir(), "rsa.pem");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }));
    await expect(createLocalSigner(file)).rejects.toThrow(/not an EC P-256 private key/);
  });
});

describe("KMS signer (emulator)", () => {
  let kms: KmsEmulator;
  beforeAll(async () => {
    kms = await startKmsEmulator();
  });
  afterAll(async () => {
    await kms.stop();
  });

  it("signs with MessageType RAW / ECDSA_SHA_256 and caches the public key", async () => {
    const key = kms.createKey();
    const signer = createKmsSigner(kms.client(), key.arn);
    expect(signer.keyId).toBe(key.arn);
    const before = kms.calls.length;
    await expectVerifiable(signer);
    await signer.publicKeyPem();
    const calls = kms.calls.slice(before);
    expect(calls.map((c) => c.operation)).toEqual(["Sign", "GetPublicKey"]);
    expect(calls[0]?.body).toMatchObject({
      KeyId: key.arn,
      Message: MESSAGE.toString("base64"),
      MessageType: "RAW",
      SigningAlgorithm: "ECDSA_SHA_256",
    });
  });

  it.skipIf(!hasOpenssl)("its signatures verify with openssl dgst", async () => {
    await expectOpensslVerifies(createKmsSigner(kms.client(), kms.createKey().arn));
  });

  it("accepts a key id or an alias", async () => {
    const key = kms.createKey("audit-checkpoints");
    for (const id of [key.keyId, "alias/audit-checkpoints"]) {
      const signer = createKmsSigner(kms.client(), id);
      const sig = await signer.sign(MESSAGE);
      expect(verify("sha256", MESSAGE, { key: await signer.publicKeyPem(), dsaEncoding: "der" }, sig)).toBe(
        true,
      );
    }
  });

  it("refuses a message over KMS's 4096-byte limit before calling KMS", async () => {
    const signer = createKmsSigner(kms.client(), kms.createKey().arn);
    const before = kms.calls.length;
    await expect(signer.sign(new Uint8Array(KMS_MAX_MESSAGE_BYTES + 1))).rejects.toThrow(
      /at most 4096 bytes/,
    );
    expect(kms.calls.length).toBe(before);
    await expect(signer.sign(new Uint8Array(KMS_MAX_MESSAGE_BYTES))).resolves.toBeInstanceOf(Uint8Array);
  });

  it("an unknown key is NotFoundException; the failed public key is not cached", async () => {
    const signer = createKmsSigner(kms.client(), "arn:aws:kms:us-east-1:111122223333:key/nope");
    await expect(signer.sign(MESSAGE)).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(signer.publicKeyPem()).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(signer.publicKeyPem()).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("a throttled call is retried by the SDK; too many throttles surface", async () => {
    const signer = createKmsSigner(kms.client({ maxAttempts: 2 }), kms.createKey().arn);
    kms.failNext(1);
    await expect(signer.sign(MESSAGE)).resolves.toBeInstanceOf(Uint8Array);
    kms.failNext(2);
    await expect(signer.sign(MESSAGE)).rejects.toMatchObject({ name: "ThrottlingException" });
  });

  it("a stopped KMS rejects; after restart the same key signs again", async () => {
    const key = kms.createKey();
    const signer = createKmsSigner(kms.client({ maxAttempts: 1 }), key.arn);
    await kms.stop();
    await expect(signer.sign(MESSAGE)).rejects.toThrow();
    await kms.restart();
    await expectVerifiable(signer);
  });

  describe("emulator protocol", () => {
    it("CreateKey and GetPublicKey speak the KMS JSON shapes", async () => {
      const client = kms.client();
      const { CreateKeyCommand } = await import("@aws-sdk/client-kms");
      const created = await client.send(
        new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
      );
      expect(created.KeyMetadata).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
      expect(created.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
      const out = await client.send(new GetPublicKeyCommand({ KeyId: created.KeyMetadata?.KeyId }));
      expect(out).toMatchObject({
        KeyId: created.KeyMetadata?.Arn,
        KeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: ["ECDSA_SHA_256"],
      });
      expect(
        createPublicKey({ key: Buffer.from(out.PublicKey!), format: "der", type: "spki" }).asymmetricKeyType,
      ).toBe("ec");
      await expect(
        client.send(new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT" })),
      ).rejects.toMatchObject({ name: "UnsupportedOperationException" });
    });

    it("Sign with MessageType DIGEST signs the given SHA-256 digest", async () => {
      const key = kms.createKey();
      const client = kms.client();
      const out = await client.send(
        new SignCommand({
          KeyId: key.keyId,
          Message: sha256(MESSAGE),
          MessageType: "DIGEST",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      const pem = createPublicKey({ key: key.publicKeyDer, format: "der", type: "spki" });
      // A DIGEST signature over sha256(m) is a RAW signature over m.
      expect(verify("sha256", MESSAGE, { key: pem, dsaEncoding: "der" }, out.Signature!)).toBe(true);
      await expect(
        client.send(
          new SignCommand({
            KeyId: key.keyId,
            Message: MESSAGE,
            MessageType: "DIGEST",
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        ),
      ).rejects.toMatchObject({
        name: "ValidationException",
        message: expect.stringMatching(/invalid length/),
      });
    });

    it("validates message size, signing algorithm and message type", async () => {
      const key = kms.createKey();
      const client = kms.client();
      const sign = (over: Record<string, unknown>) =>
        client.send(
          new SignCommand({
            KeyId: key.keyId,
            Message: MESSAGE,
            MessageType: "RAW",
            SigningAlgorithm: "ECDSA_SHA_256",
            ...over,
          } as never),
        );
      await expect(sign({ Message: new Uint8Array(4097) })).rejects.toMatchObject({
        name: "ValidationException",
        message: expect.stringMatching(/less than or equal to 4096/),
      });
      await expect(sign({ SigningAlgorithm: "ECDSA_SHA_384" })).rejects.toMatchObject({
        name: "InvalidKeyUsageException",
      });
      await expect(sign({ SigningAlgorithm: "MD5" })).rejects.toMatchObject({ name: "ValidationException" });
      await expect(sign({ MessageType: "PLAIN" })).rejects.toMatchObject({ name: "ValidationException" });
      const last = kms.calls.at(-1);
      expect(last).toMatchObject({ operation: "Sign", status: 400 });
    });
  });
});
