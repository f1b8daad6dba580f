import { hash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Keys are 256 random bits, so a single SHA-256 is enough to store them (a slow password hash such as
 * bcrypt protects low-entropy secrets and would cost ~100 ms a request).
 */
export const KEY_PREFIX = "sk-gw-";

export const generateKey = (): string => `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;

/** One-shot `hash` rather than a Hash object: this runs on every request (key lookup). */
export const sha256Hex = (value: string): string => hash("sha256", value, "hex");

/** Constant-time equality of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
