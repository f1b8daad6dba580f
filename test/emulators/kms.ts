import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";
import { readAwsJsonBody, sendAwsJson } from "./aws-json.ts";
import { startLoopback } from "./loopback-server.ts";

/**
 * A small AWS KMS emulator speaking the AWS JSON 1.1 protocol that @aws-sdk/client-kms uses: POST / with
 * `X-Amz-Target: TrentService.<Operation>` and `Content-Type: application/x-amz-json-1.1`; blobs
 * (Message, Signature, PublicKey) are base64 strings in the JSON; errors are `{ "__type", "message" }`
 * with a 4xx status. Implemented: CreateKey, GetPublicKey, Sign — asymmetric ECC_NIST_P256 / SIGN_VERIFY
 * keys only, generated with node:crypto. Sign follows the API reference
 * (https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html): Message at most 4096 bytes;
 * MessageType RAW (KMS hashes with SHA-256) or DIGEST (the 32-byte SHA-256 digest itself); SigningAlgorithm
 * must be one the key supports (ECDSA_SHA_256); an unknown key is NotFoundException. Signatures are DER.
 */

export interface KmsCall {
  operation: string;
  body: Record<string, unknown>;
  status: number;
}

export interface EmulatedKey {
  keyId: string;
  arn: string;
  privateKey: KeyObject;
  publicKeyDer: Buffer;
}

export interface KmsEmulator {
  readonly endpoint: string;
  readonly port: number;
  readonly calls: KmsCall[];
  readonly keys: Map<string, EmulatedKey>;
  /** A KMSClient on this emulator: region us-east-1, fake credentials. */
  client(overrides?: Partial<KMSClientConfig>): KMSClient;
  /** Creates an ECC_NIST_P256 SIGN_VERIFY key directly (as CreateKey does), optionally with an alias. */
  createKey(alias?: string): EmulatedKey;
  /** The next n calls fail with 400 `type` (ThrottlingException by default). */
  failNext(n: number, type?: string): void;
  stop(): Promise<void>;
  /** Listens again on the same port (keys and calls are kept). */
  restart(): Promise<void>;
}

const REGION = "us-east-1";
const ACCOUNT = "111122223333";
/** API_Sign.html: Message, "Length Constraints: Maximum length of 4096". */
const MAX_MESSAGE_BYTES = 4096;
const SIGNING_ALGORITHMS = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "ECDSA_SHA_256",
  "ECDSA_SHA_384",
  "ECDSA_SHA_512",
  "SM2DSA",
  "ML_DSA_SHAKE_256",
  "ED25519_SHA_512",
  "ED25519_PH_SHA_512",
];

class KmsError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

// --- ECDSA P-256 over a precomputed SHA-256 digest (MessageType DIGEST), which node:crypto cannot do. ---
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = [bigint, bigint] | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function powMod(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = mod(b, m);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}
const inv = (a: bigint, m: bigint) => powMod(a, m - 2n, m);

function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  const [x1, y1] = p1;
  const [x2, y2] = p2;
  if (x1 === x2 && mod(y1 + y2, P) === 0n) return null;
  const l =
    x1 === x2 && y1 === y2
      ? mod((3n * x1 * x1 - 3n) * inv(2n * y1, P), P)
      : mod((y2 - y1) * inv(x2 - x1, P), P);
  const x3 = mod(l * l - x1 - x2, P);
  return [x3, mod(l * (x1 - x3) - y1, P)];
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBigInt = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString("hex") || "0"}`);

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, "hex");
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function signDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = toBigInt(Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url"));
  const z = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(40)), N - 1n) + 1n;
    const r = mod(multiply(k, G)?.[0] ?? 0n, N);
    const s = mod(inv(k, N) * (z + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

export async function startKmsEmulator(): Promise<KmsEmulator> {
  const calls: KmsCall[] = [];
  const keys = new Map<string, EmulatedKey>();
  const aliases = new Map<string, string>();
  const faults: string[] = [];

  const createKey = (alias?: string): EmulatedKey => {
    const keyId = randomUUID();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const key: EmulatedKey = {
      keyId,
      arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
      privateKey,
      publicKeyDer: publicKey.export({ type: "spki", format: "der" }),
    };
    keys.set(keyId, key);
    if (alias) aliases.set(alias.startsWith("alias/") ? alias : `alias/${alias}`, keyId);
    return key;
  };

  const resolve = (id: unknown): EmulatedKey => {
    if (typeof id !== "string" || id.length === 0 || id.length > 2048) {
      throw new KmsError(
        "ValidationException",
        "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const aliasName =
      /^arn:aws:kms:[^:]*:[^:]*:(alias\/.+)$/.exec(id)?.[1] ?? (id.startsWith("alias/") ? id : "");
    if (aliasName) {
      const target = aliases.get(aliasName);
      const key = target ? keys.get(target) : undefined;
      if (!key)
        throw new KmsError(
          "NotFoundException",
          `Alias arn:aws:kms:${REGION}:${ACCOUNT}:${aliasName} is not found.`,
        );
      return key;
    }
    const uuid = /^arn:aws:kms:[^:]*:[^:]*:key\/(.+)$/.exec(id)?.[1] ?? id;
    const key = keys.get(uuid);
    if (!key)
      throw new KmsError(
        "NotFoundException",
        `Key '${id.startsWith("arn:") ? id : `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`}' does not exist`,
      );
    return key;
  };

  const metadata = (key: EmulatedKey) => ({
    AWSAccountId: ACCOUNT,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: Date.now() / 1000,
    Enabled: true,
    Description: "",
    KeyUsage: "SIGN_VERIFY",
    KeyState: "Enabled",
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "ECC_NIST_P256",
    KeySpec: "ECC_NIST_P256",
    SigningAlgorithms: ["ECDSA_SHA_256"],
    MultiRegion: false,
  });

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    CreateKey(body) {
      const spec = body.KeySpec ?? body.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
      if (spec !== "ECC_NIST_P256" || body.KeyUsage !== "SIGN_VERIFY") {
        throw new KmsError(
          "UnsupportedOperationException",
          `The emulator only creates ECC_NIST_P256 SIGN_VERIFY keys, not ${String(spec)} ${String(body.KeyUsage)}`,
        );
      }
      return { KeyMetadata: metadata(createKey()) };
    },
    GetPublicKey(body) {
      const key = resolve(body.KeyId);
      return {
        KeyId: key.arn,
        PublicKey: key.publicKeyDer.toString("base64"),
        CustomerMasterKeySpec: "ECC_NIST_P256",
        KeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: ["ECDSA_SHA_256"],
      };
    },
    Sign(body) {
      if (typeof body.Message !== "string") {
        throw new KmsError(
          "ValidationException",
          "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
        );
      }
      const message = Buffer.from(body.Message, "base64");
      if (message.length > MAX_MESSAGE_BYTES) {
        throw new KmsError(
          "ValidationException",
          "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
        );
      }
      const type = body.MessageType ?? "RAW";
      if (type !== "RAW" && type !== "DIGEST") {
        throw new KmsError(
          "ValidationException",
          `1 validation error detected: Value '${String(type)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]`,
        );
      }
      const algorithm = body.SigningAlgorithm;
      if (typeof algorithm !== "string" || !SIGNING_ALGORITHMS.includes(algorithm)) {
        throw new KmsError(
          "ValidationException",
          `1 validation error detected: Value '${String(algorithm)}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set`,
        );
      }
      const key = resolve(body.KeyId);
      if (algorithm !== "ECDSA_SHA_256") {
        throw new KmsError(
          "InvalidKeyUsageException",
          `You cannot use the signing algorithm ${algorithm} with this KMS key. Supported algorithms: ECDSA_SHA_256`,
        );
      }
      let signature: Buffer;
      if (type === "DIGEST") {
        if (message.length !== 32) {
          throw new KmsError("ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.");
        }
        signature = signDigest(key.privateKey, message);
      } else {
        signature = sign("sha256", message, { key: key.privateKey, dsaEncoding: "der" });
      }
      return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: algorithm };
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("TrentService.") ? target.slice("TrentService.".length) : target;
    let body: Record<string, unknown> = {};
    const reply = (status: number, payload: unknown) => {
      calls.push({ operation, body, status });
      sendAwsJson(res, status, payload);
    };
    const fault = faults.shift();
    if (fault) return reply(400, { __type: fault, message: "Rate exceeded" });
    const op = req.method === "POST" ? operations[operation] : undefined;
    if (!op)
      return reply(400, { __type: "UnknownOperationException", message: `Unsupported operation ${target}` });
    try {
      const parsed: unknown = JSON.parse(text || "{}");
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return reply(400, { __type: "SerializationException", message: "Request body is not a JSON object" });
    }
    try {
      reply(200, op(body));
    } catch (err) {
      if (!(err instanceof KmsError)) throw err;
      reply(err.status, { __type: err.type, message: err.message });
    }
  };

  const server: Server = createServer((req, res) => {
    readAwsJsonBody(req)
      .then((text) => handle(req, res, text))
      .catch((err: unknown) =>
        sendAwsJson(res, 500, { __type: "KMSInternalException", message: String(err) }),
      );
  });

  const { port, endpoint, stop, restart } = await startLoopback(server);

  return {
    endpoint,
    port,
    calls,
    keys,
    client: (overrides = {}) =>
      new KMSClient({
        endpoint,
        region: REGION,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        ...overrides,
      }),
    createKey,
    failNext(n, type = "ThrottlingException") {
      for (let i = 0; i < n; i++) faults.push(type);
    },
    stop,
    restart,
  };
}

/** SHA-256 of a message: the Message of a `MessageType: DIGEST` Sign call. */
export const sha256 = (message: Uint8Array) => createHash("sha256").update(message).digest();
