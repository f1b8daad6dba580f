import { sha256Hex } from "./chain.ts";

/**
 * The most a record's data may take, in bytes of JSON. A record travels as one SQS message (256 KiB
 * unless the queue allows more) and is stored whole in DynamoDB items of at most 400 KB each; its other
 * fields (ids, time, hashes) fit in the margin. A request of up to the 4 MiB body limit would otherwise
 * be a record no store takes, which stalls its org's chain and ends in the dead-letter queue.
 */
export const MAX_DATA_BYTES = 192 * 1024;

/** What a cut field keeps of its JSON text: enough to see what it was. */
export const CUT_HEAD_CHARS = 8 * 1024;

/**
 * A field too large for a record: its JSON's size and SHA-256 (a copy kept elsewhere can be checked
 * against it) and its first characters.
 */
export interface CutField {
  cut: true;
  bytes: number;
  sha256: string;
  head: string;
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");

export function cutField(value: unknown): CutField {
  const json = JSON.stringify(value) ?? "null";
  return {
    cut: true,
    bytes: Buffer.byteLength(json, "utf8"),
    sha256: sha256Hex(json),
    // A cut may fall inside a surrogate pair: a lone half would make the record one no canonical form takes.
    head: json.slice(0, CUT_HEAD_CHARS).toWellFormed(),
  };
}

/**
 * The data as it may be recorded: unchanged when it fits MAX_DATA_BYTES, otherwise with its largest
 * top-level fields replaced by their cuts, largest first, until it fits.
 */
export function boundedData(data: Record<string, unknown>): Record<string, unknown> {
  let total = jsonBytes(data);
  if (total <= MAX_DATA_BYTES) return data;
  const out = { ...data };
  const bySize = Object.keys(out)
    .map((k) => ({ k, bytes: jsonBytes(out[k]) }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const { k, bytes } of bySize) {
    if (total <= MAX_DATA_BYTES) break;
    const cut = cutField(out[k]);
    total += jsonBytes(cut) - bytes;
    out[k] = cut;
  }
  return out;
}
