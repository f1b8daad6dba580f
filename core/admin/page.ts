import { z } from "zod";
import { validate } from "../gateway/validate.ts";

/**
 * Admin lists are pages in id order, shaped like OpenAI's list responses: `?limit=` (default 100, at
 * most 1000) and `?after=<last_id of the previous page>`. A page also ends before its items pass
 * PAGE_BYTES of JSON (`has_more` then says so), so it stays inside the 6 MB a buffered Lambda may answer
 * with (Lambda quotas: invocation payload, request and response), whatever its items hold.
 */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** The most JSON a page's items take: 4 MiB, leaving the 6 MB response limit room for the rest. */
export const PAGE_BYTES = 4 * 1024 * 1024;

/** A list's page sizes: what a page holds when `limit` is not given, and the most it may ask for. */
export interface PageSizes {
  default: number;
  max: number;
}

/** A query parameter that is a whole number, as a number. */
export const wholeNumberParam = z.string().regex(/^\d+$/, "must be a whole number").transform(Number);

const pageQuery = (sizes: PageSizes) =>
  z
    .object({
      limit: wholeNumberParam.pipe(z.number().int().min(1).max(sizes.max)).optional(),
      after: z.string().min(1).optional(),
    })
    .strict();

const ADMIN_LISTS: PageSizes = { default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE };
const adminPageQuery = pageQuery(ADMIN_LISTS);

export interface Page<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * The first of `entries` whose items fit PAGE_BYTES as a Lambda response carries them (the body's JSON
 * escaped once more, as a string in the response's JSON), and always the first one (a page that held
 * none would never move on). An item is one admin document or report row: names are bounded
 * (config/schema.ts), a document by the 1 MiB body it came in.
 */
function fitting<E>(entries: readonly E[], itemOf: (entry: E) => unknown): readonly E[] {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += answerBytes(itemOf(entries[i]!));
    if (bytes > PAGE_BYTES && i > 0) return entries.slice(0, i);
  }
  return entries;
}

/**
 * What an item takes of a buffered Lambda answer: the body's JSON is a string in the response's JSON,
 * escaped once more (its comma in the list counted for its quotes).
 */
export const answerBytes = (item: unknown): number =>
  Buffer.byteLength(JSON.stringify(JSON.stringify(item))) - 1;

/** Ids in code-unit order, as DynamoDB and SQLite's BINARY collation sort strings. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One page of `items` (any order) by the query, in the order `compare` gives their ids; bad
 * `limit`/`after` or another parameter is a 400.
 */
export function page<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  query: Record<string, string>,
  sizes: PageSizes = ADMIN_LISTS,
  compare: (a: string, b: string) => number = byCodeUnits,
): Page<T> {
  const schema = sizes === ADMIN_LISTS ? adminPageQuery : pageQuery(sizes);
  const { limit = sizes.default, after } = validate(schema, query);
  // Each id made once: a sort compares each item about log n times.
  const sorted = items.map((item) => ({ item, id: idOf(item) })).sort((a, b) => compare(a.id, b.id));
  const rest = after === undefined ? sorted : sorted.filter((entry) => compare(entry.id, after) > 0);
  const data = fitting(rest.slice(0, limit), (entry) => entry.item);
  return {
    object: "list",
    data: data.map((entry) => entry.item),
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: rest.length > data.length,
  };
}
