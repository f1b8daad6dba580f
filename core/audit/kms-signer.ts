import { GetPublicKeyCommand, type KMSClient, SignCommand } from "@aws-sdk/client-kms";
import type { Signer } from "./port.ts";
import { spkiDerToPem } from "./signing.ts";

/**
 * KMS's limit for `Sign` with `MessageType: RAW`: "Messages can be 0-4096 bytes" (SignRequest.Message,
 * AWS KMS API reference / @aws-sdk/client-kms). Checkpoint payloads are ~150 bytes.
 */
export const KMS_MAX_MESSAGE_BYTES = 4096;

/**
 * Checkpoint signer on an AWS KMS asymmetric key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY):
 * Sign with SigningAlgorithm ECDSA_SHA_256 and MessageType RAW (KMS hashes with SHA-256), which returns a
 * DER-encoded ECDSA signature. `keyId` is what was given (key id, ARN or alias; an ARN is best, it names
 * the key in exports). The public key (GetPublicKey: DER SPKI) is fetched once and cached as PEM. Retries
 * of throttling and 5xx are the SDK client's (its retry strategy / maxAttempts).
 */
export function createKmsSigner(client: KMSClient, keyId: string): Signer {
  let pem: Promise<string> | undefined;
  const fetchPem = async () => {
    const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (out.KeySpec !== "ECC_NIST_P256")
      throw new Error(`KMS key ${keyId} is ${out.KeySpec}, not ECC_NIST_P256`);
    if (out.KeyUsage !== "SIGN_VERIFY") throw new Error(`KMS key ${keyId} has usage ${out.KeyUsage}`);
    if (!out.SigningAlgorithms?.includes("ECDSA_SHA_256")) {
      throw new Error(`KMS key ${keyId} does not support ECDSA_SHA_256`);
    }
    if (!out.PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
    return spkiDerToPem(out.PublicKey);
  };
  return {
    keyId,
    async sign(message) {
      if (message.byteLength > KMS_MAX_MESSAGE_BYTES) {
        throw new Error(`KMS Sign takes at most ${KMS_MAX_MESSAGE_BYTES} bytes, got ${message.byteLength}`);
      }
      const out = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: message,
          MessageType: "RAW",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      if (!out.Signature) throw new Error(`KMS returned no signature for ${keyId}`);
      return out.Signature;
    },
    publicKeyPem() {
      pem ??= fetchPem().catch((err: unknown) => {
        pem = undefined; // a failure is not cached
        throw err;
      });
      return pem;
    },
  };
}
