import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";

/**
 * What both signers produce and the verifier checks: ECDSA over NIST P-256 with SHA-256 of the message
 * (KMS `ECDSA_SHA_256` with `MessageType: RAW`), the signature DER-encoded (ASN.1 SEQUENCE of r and s, as
 * KMS returns it and as `openssl dgst -sha256 -verify pub.pem -signature sig.der msg` reads it).
 */

/** A public key object from SPKI PEM, refusing anything but an EC P-256 key. */
export function p256PublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
    throw new Error(`expected an EC P-256 public key, got ${key.asymmetricKeyType} ${curve ?? ""}`.trim());
  }
  return key;
}

/** SPKI DER of a public key → PEM. */
export function spkiDerToPem(der: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" })
    .export({ type: "spki", format: "pem" })
    .toString();
}

/** Lowercase hex SHA-256 of the key's SPKI DER (what `openssl pkey -pubin -outform DER | sha256sum` prints). */
export function publicKeyFingerprint(key: KeyObject | string): string {
  const obj = typeof key === "string" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(obj.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** Verifies a DER ECDSA P-256/SHA-256 signature; false (never a throw) for any malformed signature. */
export function verifySignature(key: KeyObject, message: Uint8Array, signatureDer: Uint8Array): boolean {
  try {
    return verify("sha256", message, { key, dsaEncoding: "der" }, signatureDer);
  } catch {
    return false;
  }
}
