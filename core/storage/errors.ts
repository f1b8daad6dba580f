/**
 * A write refused because it would break a uniqueness or version condition (a key id or hash already
 * taken, a registry entry changed since it was read). Every store adapter maps its own conflict signal
 * (SQLite constraint, DynamoDB ConditionalCheckFailed) onto this one type.
 */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConflictError";
  }
}

/**
 * A write that needs an existing entry (replace) found none. Adapters raise it from their own signal
 * (no row updated, DynamoDB `attribute_exists` failing) so callers can answer 404 without a prior read.
 */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/**
 * A write the store could not start in time because another writer held it (SQLite's write lock past
 * its busy timeout): transient, so the caller is told to retry rather than that the gateway failed.
 */
export class StoreBusyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreBusyError";
  }
}

/**
 * A guarded write (one given the registry version its caller's checks read) found the registry moved
 * on since: the checks may be stale, so the caller reads again and decides again. Nothing was written.
 */
export class VersionChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VersionChangedError";
  }
}

/**
 * Whether `err` says another writer holds the database's write lock: StoreBusyError, or node:sqlite's
 * own SQLITE_BUSY (5) / SQLITE_LOCKED (6) `errcode` from a statement run outside a transaction.
 */
export const isLockBusy = (err: unknown): boolean => {
  if (err instanceof StoreBusyError) return true;
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return code === 5 || code === 6;
};

/**
 * Whether `err` is DynamoDB throttling that outlasted the retries (the SDK's for a single write, ours for
 * a transaction): a table scaling up, transient as a held lock is. Read by name, so that callers need
 * no AWS SDK: ThrottlingException, ProvisionedThroughputExceededException, RequestLimitExceeded, or a
 * transaction cancelled for ThrottlingError / ProvisionedThroughputExceeded.
 */
export const isStoreThrottled = (err: unknown): boolean => {
  if (typeof err !== "object" || err === null) return false;
  const { name, CancellationReasons } = err as { name?: unknown; CancellationReasons?: unknown };
  if (name === "ThrottlingException" || name === "ProvisionedThroughputExceededException") return true;
  if (name === "RequestLimitExceeded") return true;
  return (
    name === "TransactionCanceledException" &&
    Array.isArray(CancellationReasons) &&
    CancellationReasons.some((r) => {
      const code = (r as { Code?: unknown } | null)?.Code;
      return code === "ThrottlingError" || code === "ProvisionedThroughputExceeded";
    })
  );
};

/**
 * Network errors by which an AWS SDK call finds its endpoint gone: refused, reset, unresolvable,
 * unroutable, or silent past the client's timeouts (functions/aws/client-config.ts).
 */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Whether `err` is an AWS SDK call (DynamoDB, EventBridge, SQS, KMS) that failed past the SDK's retries
 * because the service was unreachable or answered 5xx: an outage, transient by nature, not the
 * gateway's fault. Only the SDK's errors carry `$metadata`, so a network error of anything else (a
 * provider call, which has its own errors) is not read as one.
 */
export const isStoreUnavailable = (err: unknown): boolean => {
  if (typeof err !== "object" || err === null || !("$metadata" in err)) return false;
  const { $fault, name, code } = err as { $fault?: unknown; name?: unknown; code?: unknown };
  if ($fault === "server") return true;
  if (name === "TimeoutError") return true;
  return typeof code === "string" && UNREACHABLE.has(code);
};
