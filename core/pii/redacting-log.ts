import type { Log, LogFields } from "../log.ts";
import { silentLog } from "../log.ts";
import { isUuid } from "./checks.ts";
import { isLabelKey } from "./detectors.ts";
import { redactNamed } from "./redact.ts";
import { containsPii, redactText } from "./redact-text.ts";

const redacting = new WeakSet<Log>();

type FieldValue = LogFields[string];

/**
 * Short strings found clean, remembered: a request line repeats its org, key, model and provider on every
 * request, and scanning them again was most of the line's cost. Only clean strings are kept, so the memo
 * never holds personal data the detectors found; it is cleared when full rather than tracked per entry.
 */
const clean = new Set<string>();
const CLEAN_MAX = 4096;
const CLEAN_MAX_LENGTH = 256;

function redactString(value: string): string {
  if (clean.has(value)) return value;
  // A request id is on every line and new each time, so never in the memo; the detectors would pass it
  // (they never read a UUID as personal data) at about 3 µs each.
  if (isUuid(value)) return value;
  const out = redactText(value).text;
  if (out === value && value.length <= CLEAN_MAX_LENGTH) {
    if (clean.size >= CLEAN_MAX) clean.clear();
    clean.add(value);
  }
  return out;
}

/**
 * Strings are redacted. Integers of 12 digits or more are checked in their decimal form (a card number
 * logged as a number) and become the masked string if anything is found; other values pass unchanged.
 */
function redactField(value: FieldValue): FieldValue {
  if (typeof value === "string") return redactString(value);
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) >= 1e11) {
    const text = String(value);
    return containsPii(text) ? redactText(text).text : value;
  }
  return value;
}

function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    // A field named like a label (`phone`, `ssn`) is read with its name, as redactValue reads a key.
    // isLabelKey remembers its answers: a line repeats the same few names.
    if (isLabelKey(key) && (typeof value === "string" || typeof value === "number")) {
      const r = redactNamed(key, value);
      out[key] = r.count > 0 ? r.text : value;
    } else out[key] = redactField(value);
  }
  return out;
}

/**
 * Wraps a logger so that the message and every string field of every line are redacted before they
 * reach it (field names are kept). Wrapping twice returns the same logger.
 */
export function redactingLog(log: Log): Log {
  // Nothing to protect in a logger that writes nowhere, and redaction is not free on the hot path.
  if (redacting.has(log) || log === silentLog) return log;
  const text = redactString;
  const wrapped: Log = {
    info: (m, f) => (f === undefined ? log.info(text(m)) : log.info(text(m), redactFields(f))),
    warn: (m, f) => (f === undefined ? log.warn(text(m)) : log.warn(text(m), redactFields(f))),
    error: (m, f) => (f === undefined ? log.error(text(m)) : log.error(text(m), redactFields(f))),
  };
  redacting.add(wrapped);
  return wrapped;
}
