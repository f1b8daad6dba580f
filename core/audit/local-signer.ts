import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Signer } from "./port.ts";
import { publicKeyFingerprint } from "./signing.ts";

/**
 * Portable-mode checkpoint signer: ECDSA P-256 / SHA-256 with a PKCS#8 PEM private key file (the same
 * algorithm as KMS `ECDSA_SHA_256`). The file is created with mode 0600 when missing (exclusively, so two
 * processes starting together end up with the same key). keyId = `local:` + SHA-256 of the public key's
 * SPKI DER. Signatures are DER.
 */
export async function createLocalSigner(keyFile: string): Promise<Signer & { created: boolean }> {
  const { key: privateKey, created } = await loadOrCreateKey(keyFile);
  const publicKey = createPublicKey(privateKey);
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return {
    /** Whether this call made the key file: a key that replaced a lost one signs from here on. */
    created,
    keyId: `local:${publicKeyFingerprint(publicKey)}`,
    async sign(message) {
      return new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "der" }));
    },
    async publicKeyPem() {
      return pem;
    },
  };
}

async function loadOrCreateKey(keyFile: string): Promise<{ key: KeyObject; created: boolean }> {
  let pem: string;
  let created = false;
  try {
    pem = await readFile(keyFile, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    await mkdir(dirname(keyFile), { recursive: true });
    try {
      await writeFile(keyFile, pem, { mode: 0o600, flag: "wx" });
      created = true;
    } catch (writeErr) {
      // Another process created it first: use theirs.
      if ((writeErr as NodeJS.ErrnoException).code !== "EEXIST") throw writeErr;
      pem = await readFile(keyFile, "utf8");
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new SigningKeyError(keyFile, "it is not a PEM private key");
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new SigningKeyError(keyFile, "it is not an EC P-256 private key");
  }
  return { key, created };
}

/** The signing key file exists but cannot sign: damaged, or replaced by another kind of key. */
export class SigningKeyError extends Error {
  readonly keyFile: string;
  constructor(keyFile: string, reason: string) {
    super(`the audit signing key ${keyFile} cannot be used: ${reason}`);
    this.name = "SigningKeyError";
    this.keyFile = keyFile;
  }
}
