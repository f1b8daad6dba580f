/**
 * The logging port. Fields are structured; callers never put prompts, completions, keys or provider
 * secrets in them (the redaction layer of the audit issue enforces the same for every line).
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Log {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };
