import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
} from "@aws-sdk/lib-dynamodb";

/** One element of a BatchWriteItem request (a put or a delete), in document-client form. */
export type WriteRequest = NonNullable<BatchWriteCommandInput["RequestItems"]>[string][number];

/** DynamoDB refuses a BatchWriteItem with more than 25 put/delete requests. */
export const BATCH_WRITE_LIMIT = 25;
/** Enough rounds that throttling clears (2^9 × 50 ms caps at ~25 s in total) before we give up loudly. */
const MAX_ROUNDS = 10;
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter, as AWS recommends for UnprocessedItems and transaction retries. */
export function backoff(attempt: number): Promise<void> {
  const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return sleep(Math.random() * cap);
}

/** Thrown when DynamoDB still leaves items unprocessed after every retry: a write is never dropped quietly. */
export class UnprocessedItemsError extends Error {
  readonly unprocessed: number;
  constructor(table: string, unprocessed: number) {
    super(`DynamoDB left ${unprocessed} write(s) to ${table} unprocessed after ${MAX_ROUNDS} attempts.`);
    this.name = "UnprocessedItemsError";
    this.unprocessed = unprocessed;
  }
}

/**
 * Writes every request, 25 per BatchWriteItem call. A batch succeeds partially under throttling: the
 * rest comes back in UnprocessedItems and is re-sent with backoff until it is done or we give up with an
 * error. Requests must address distinct keys (DynamoDB rejects a batch naming one key twice).
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnprocessedItemsError(table, pending.length);
      if (round > 0) await backoff(round);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

type Item = NonNullable<ScanCommandOutput["Items"]>[number];

/** Yields every page of a Query: a page stops at 1 MB (or `Limit` items); LastEvaluatedKey resumes it. */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey">,
): AsyncGenerator<Item[]> {
  let start: QueryCommandInput["ExclusiveStartKey"];
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

/**
 * Yields every page of a Scan. A Scan page stops at 1 MB of data read (before any filter is applied), so
 * a table past 1 MB always needs several calls; LastEvaluatedKey says where to resume.
 */
export async function* scanPages(
  doc: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, "ExclusiveStartKey">,
): AsyncGenerator<{ items: Item[]; count: number }> {
  let start: ScanCommandInput["ExclusiveStartKey"];
  do {
    const page = await doc.send(new ScanCommand({ ...input, ExclusiveStartKey: start }));
    yield { items: page.Items ?? [], count: page.Count ?? 0 };
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}
