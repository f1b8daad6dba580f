import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { queryPages, scanPages } from "../storage/dynamo-batch.ts";
import { nanos, usdOf } from "./money.ts";
import type { SpendQuery, SpendRow } from "./spend-port.ts";

/** Days queried at once: enough to hide latency, few enough not to trip the table's throttling. */
const QUERY_CONCURRENCY = 8;
const DAY_MS = 86_400_000;
/** Names DynamoDB reserves (DAY, MODEL...) cannot appear bare in expressions. */
export const NAMES = {
  "#day": "day",
  "#org": "org",
  "#key": "keyId",
  "#provider": "provider",
  "#model": "model",
};

/** Every UTC day from `from` to `to`, inclusive; none when either is not a date or from > to. */
function days(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function toRow(item: Record<string, unknown>): SpendRow {
  return {
    day: String(item.day),
    org: String(item.org),
    keyId: String(item.keyId),
    model: String(item.model),
    provider: String(item.provider),
    requests: Number(item.requests ?? 0),
    inputTokens: Number(item.inputTokens ?? 0),
    outputTokens: Number(item.outputTokens ?? 0),
    costUsd: usdOf(nanos(Number(item.costUsd ?? 0))),
  };
}

const order = (r: SpendRow) => [r.day, r.org, r.keyId, r.provider, r.model].join("\u0000");

/**
 * The spend store's rollup query. With an org: one Query per day of the range (partition
 * `ROLLUP#<org>#<day>`, narrowed to the key by begins_with on the sort key, `<keyId>#...`), up to
 * QUERY_CONCURRENCY days at a time; it reads exactly the rows asked for, and reports span days to months.
 * Without an org, which only an operator-wide report asks, a filtered Scan: the org is in the partition
 * key, so no key condition selects "every org on these days" (a GSI on day would, at the cost of another
 * write per usage event on the hot path; not worth it for a rare report). Both follow LastEvaluatedKey:
 * a page stops at 1 MB (or `pageSize` items).
 */
export function dynamoSpendQuery(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pageSize: number | undefined,
): (q: SpendQuery) => Promise<SpendRow[]> {
  const queryDay = async (org: string, day: string, q: SpendQuery): Promise<SpendRow[]> => {
    const rows: SpendRow[] = [];
    for await (const items of queryPages(doc, {
      TableName: tableName,
      KeyConditionExpression: `pk = :pk${q.keyId !== undefined ? " AND begins_with(sk, :key)" : ""}`,
      ...(q.model !== undefined
        ? { FilterExpression: "#model = :model", ExpressionAttributeNames: { "#model": "model" } }
        : {}),
      ExpressionAttributeValues: {
        ":pk": `ROLLUP#${org}#${day}`,
        ...(q.keyId !== undefined ? { ":key": `${q.keyId}#` } : {}),
        ...(q.model !== undefined ? { ":model": q.model } : {}),
      },
      ConsistentRead: true,
      Limit: pageSize,
    }))
      for (const item of items) rows.push(toRow(item));
    return rows;
  };

  const scanAll = async (q: SpendQuery): Promise<SpendRow[]> => {
    const filters = ["begins_with(pk, :rollup)", "#day BETWEEN :from AND :to"];
    const values: Record<string, string> = { ":rollup": "ROLLUP#", ":from": q.from, ":to": q.to };
    if (q.keyId !== undefined) {
      filters.push("#key = :key");
      values[":key"] = q.keyId;
    }
    if (q.model !== undefined) {
      filters.push("#model = :model");
      values[":model"] = q.model;
    }
    const names = Object.fromEntries(
      Object.entries(NAMES).filter(([n]) => filters.some((f) => f.includes(n))),
    );
    const rows: SpendRow[] = [];
    for await (const page of scanPages(doc, {
      TableName: tableName,
      FilterExpression: filters.join(" AND "),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
      Limit: pageSize,
    }))
      for (const item of page.items) rows.push(toRow(item));
    return rows;
  };

  return async (q) => {
    let rows: SpendRow[];
    if (q.org === undefined) rows = await scanAll(q);
    else {
      const org = q.org;
      const pending = days(q.from, q.to);
      rows = [];
      const worker = async () => {
        for (let day = pending.shift(); day !== undefined; day = pending.shift())
          rows.push(...(await queryDay(org, day, q)));
      };
      await Promise.all(Array.from({ length: QUERY_CONCURRENCY }, worker));
    }
    return merged(rows).sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  };
}

/** One row per day, org, key, provider and model: the regions' rows (spend-dynamo-store.ts) summed. */
function merged(rows: SpendRow[]): SpendRow[] {
  const byKey = new Map<string, SpendRow & { nanos: number }>();
  for (const r of rows) {
    const k = order(r);
    const seen = byKey.get(k);
    if (!seen) byKey.set(k, { ...r, nanos: nanos(r.costUsd) });
    else {
      seen.requests += r.requests;
      seen.inputTokens += r.inputTokens;
      seen.outputTokens += r.outputTokens;
      seen.nanos += nanos(r.costUsd);
    }
  }
  return [...byKey.values()].map(({ nanos: n, ...r }) => ({ ...r, costUsd: usdOf(n) }));
}
