import { z } from "zod";
import { badRequest, GatewayError } from "../api/errors.ts";
import type { SpendRow } from "../budgets/spend-port.ts";
import { keySchema, orgSchema } from "../config/schema.ts";
import { validate } from "../gateway/validate.ts";
import { byCodeUnits, page } from "./page.ts";
import type { AdminResource } from "./types.ts";

/** A calendar day: `2026-02-30` has the form but no day, and would quietly report nothing. */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC day YYYY-MM-DD")
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().startsWith(d);
  }, "is not a calendar day");

/** `GET /admin/spend?from=&to=[&org=][&key=][&model=]`: the cost aggregator's daily rollups over a range. */
const spendQuery = z
  .object({
    from: day,
    to: day,
    // An id that no org or key could have is a typo, not an org without spend: 400, never an empty 200.
    org: orgSchema.shape.id.optional(),
    key: keySchema.shape.id.optional(),
    model: z.string().min(1).optional(),
  })
  .strict()
  .refine((q) => q.from <= q.to, { message: "must not be after 'to'", path: ["from"] });

const MAX_DAYS = 366;

/**
 * A report is paged like the admin lists (`limit`, `after`), with larger pages, since a year of many
 * keys' daily rows would pass the 6 MB a Lambda may answer with: 10 000 rows of about 200 bytes. A page
 * of rows with long model names (a lenient server can serve any name) ends sooner, at PAGE_BYTES.
 */
const REPORT_PAGES = { default: 1_000, max: 10_000 };

/** A row's place in the report: day, then org, key, provider and model. */
const rowId = (r: SpendRow): string => [r.day, r.org, r.keyId, r.provider, r.model].join("|");

/**
 * Row ids compared field by field: as whole strings, `ab-c|…` would sort before `ab|…` ('-' is below
 * '|'). Ids, days and provider ids hold no '|'; the model, last, may, so it is the rest of the id. Each
 * id is split once per report (a sort compares each row's id about log n times).
 */
function byFields(): (a: string, b: string) => number {
  const split = new Map<string, string[]>();
  const fields = (id: string): string[] => {
    let f = split.get(id);
    if (!f) {
      const parts = id.split("|");
      f = [...parts.slice(0, 4), parts.slice(4).join("|")];
      split.set(id, f);
    }
    return f;
  };
  return (a, b) => {
    const x = fields(a);
    const y = fields(b);
    for (let i = 0; i < 5; i++) {
      const order = byCodeUnits(x[i]!, y[i]!);
      if (order !== 0) return order;
    }
    return 0;
  };
}

/**
 * What `after` must look like: a row's place, as a previous page's `last_id` gives it. Anything else
 * (a typo, a key id) sorts after or before every row and would read as an empty or a whole report.
 */
const cursor = z.object({
  after: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(\|[^|]*){4}/, "must be the last_id of a previous page of this report")
    .optional(),
});

export const spend: AdminResource = {
  collection: {
    GET: {
      body: false,
      query: true,
      async run(req) {
        const store = req.deps.spend;
        if (!store)
          throw new GatewayError(501, "server_error", "Spend reporting is not wired here.", {
            code: "not_implemented",
          });
        const { limit, after, ...filters } = req.query;
        const q = validate(spendQuery, filters);
        validate(cursor, { after });
        // Both ends count: from=2025-01-01&to=2026-01-01 spans 366 days.
        if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 + 1 > MAX_DAYS) {
          throw new GatewayError(400, "invalid_request_error", `A report spans at most ${MAX_DAYS} days.`, {
            param: "from",
            code: "range_too_large",
          });
        }
        const rows = await store.query({ from: q.from, to: q.to, org: q.org, keyId: q.key, model: q.model });
        // A cursor is a row of this report (rows are never taken out of a range once counted): one that
        // no page gave would read as a report's end or middle, not as the mistake it is.
        if (after !== undefined && !rows.some((r) => rowId(r) === after))
          throw badRequest("'after' is not the last_id of a page of this report.", "after");
        const paging = { ...(limit !== undefined && { limit }), ...(after !== undefined && { after }) };
        // Totals cover the whole report, whichever page this is.
        const { data, first_id, last_id, has_more } = page(rows, rowId, paging, REPORT_PAGES, byFields());
        return {
          status: 200,
          body: {
            object: "list",
            from: q.from,
            to: q.to,
            totals: totals(rows),
            data,
            first_id,
            last_id,
            has_more,
          },
        };
      },
    },
  },
  item: {},
};

function totals(rows: SpendRow[]) {
  return rows.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      inputTokens: t.inputTokens + r.inputTokens,
      outputTokens: t.outputTokens + r.outputTokens,
      costUsd: Math.round((t.costUsd + r.costUsd) * 1e9) / 1e9,
    }),
    { requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
}
