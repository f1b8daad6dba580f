import type { TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { rateLimitSchema, storedBudgetSchema } from "../config/schema.ts";
import type { ApiKeyRecord } from "./port.ts";

/** Item layout of the DynamoDB key store: `HASH#<sha256>` holds the record, `ID#<id>` its current hash. */
export type TxItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

export const SK = "KEY";
export const hashKey = (sha256: string) => ({ pk: `HASH#${sha256}`, sk: SK });
export const idKey = (id: string) => ({ pk: `ID#${id}`, sk: SK });
/** Racing writers on one id each lose at most a few rounds; past this the caller gets a ConflictError. */
export const MAX_PUT_ATTEMPTS = 5;

/** The HASH# item: the whole record, found by the hash the router computes from the bearer token. */
export function hashItem(r: ApiKeyRecord): Record<string, unknown> {
  const item: Record<string, unknown> = { ...hashKey(r.sha256), id: r.id, org: r.org, role: r.role };
  // The document client rejects undefined attributes unless configured to drop them; we do not rely on
  // the caller's marshall options.
  if (r.name !== undefined) item.name = r.name;
  if (r.models !== undefined) item.models = r.models;
  if (r.budgets !== undefined) item.budgets = r.budgets;
  if (r.rateLimits !== undefined) item.rateLimits = r.rateLimits;
  if (r.source !== undefined) item.source = r.source;
  return { ...item, sha256: r.sha256, createdAt: r.createdAt };
}

export function toRecord(item: Record<string, unknown>): ApiKeyRecord {
  const { id, org, role, name, models, budgets, rateLimits, sha256, createdAt, source } = item;
  if (typeof id !== "string" || typeof org !== "string" || (role !== "api" && role !== "admin"))
    throw new Error(`Malformed API key item ${String(item.pk)}.`);
  return {
    id,
    org,
    role,
    name: typeof name === "string" ? name : undefined,
    models: Array.isArray(models) ? models.map(String) : undefined,
    // Limits are enforced on every request: a malformed one fails loudly rather than lifting the limit.
    budgets: budgets === undefined ? undefined : z.array(storedBudgetSchema).parse(budgets),
    rateLimits: rateLimits === undefined ? undefined : rateLimitSchema.parse(rateLimits),
    sha256: String(sha256),
    createdAt: String(createdAt),
    ...(source === "config" ? { source } : {}),
  };
}

export const absent = { ConditionExpression: "attribute_not_exists(pk)" } as const;
