import { beforeEach, describe, expect, it } from "vitest";
import { createSqliteSpendStore } from "../../../core/budgets/spend-sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { usage } from "../../fixtures/usage.ts";
import { type AdminFixture, adminFixture, errorOf } from "./fixture.ts";

/**
 * `GET /admin/spend` over the SQLite rollups the cost aggregator writes: filters, totals, and a clear
 * 400 for every malformed range.
 */
let f: AdminFixture;
beforeEach(async () => {
  f = await adminFixture();
  const spend = createSqliteSpendStore(openDatabase(":memory:"));
  f.deps.spend = spend;
  for (const u of [
    usage("r1", { time: "2026-11-25T09:00:00.000Z", costUsd: 0.1 }),
    usage("r2", { time: "2026-11-26T09:00:00.000Z", costUsd: 0.2 }),
    usage("r3", { time: "2026-11-26T10:00:00.000Z", keyId: "k2", costUsd: 0.3 }),
    usage("r4", { time: "2026-11-26T11:00:00.000Z", providerModel: "gpt-4o-mini", costUsd: 0.05 }),
    usage("r5", { time: "2026-11-26T12:00:00.000Z", org: "globex", keyId: "g1", costUsd: 1 }),
  ])
    await spend.record(u);
});

interface Report {
  from: string;
  to: string;
  has_more: boolean;
  last_id: string | null;
  totals: { requests: number; inputTokens: number; outputTokens: number; costUsd: number };
  data: Array<{ day: string; org: string; keyId: string; model: string; requests: number; costUsd: number }>;
}

async function report(query: string): Promise<Report> {
  const res = await f.call("GET", `/admin/spend?${query}`);
  expect(res.status).toBe(200);
  return res.json as Report;
}

describe("GET /admin/spend", () => {
  it("reports daily rollups and their totals over a range, across orgs", async () => {
    const r = await report("from=2026-11-25&to=2026-11-26");
    expect(r).toMatchObject({ from: "2026-11-25", to: "2026-11-26" });
    expect(r.totals).toEqual({ requests: 5, inputTokens: 500, outputTokens: 100, costUsd: 1.65 });
    expect(r.data).toHaveLength(5);
  });

  it.each([
    ["an org", "&org=acme", 4, 0.65],
    ["a key", "&key=k2", 1, 0.3],
    ["a model", "&model=gpt-4o-mini", 1, 0.05],
    ["an org and a day", "&org=acme&from=2026-11-26", 3, 0.55],
  ])("filters by %s", async (_, filter, requests, costUsd) => {
    const base = filter.includes("from=") ? "to=2026-11-26" : "from=2026-11-25&to=2026-11-26";
    const r = await report(`${base}${filter}`);
    expect(r.totals).toMatchObject({ requests, costUsd });
  });

  it("pages the rows by day, org, key, provider and model, each page carrying the whole report's totals", async () => {
    const pages: Report[] = [];
    let after = "";
    do {
      pages.push(await report(`from=2026-11-25&to=2026-11-26&limit=2${after}`));
      after = `&after=${encodeURIComponent(pages.at(-1)!.last_id ?? "")}`;
    } while (pages.at(-1)!.has_more);
    expect(pages.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(pages.every((p) => p.totals.costUsd === 1.65)).toBe(true);
    const rows = pages.flatMap((p) => p.data.map((r) => `${r.day} ${r.org} ${r.keyId} ${r.model}`));
    expect(rows).toEqual(
      (await report("from=2026-11-25&to=2026-11-26")).data.map(
        (r) => `${r.day} ${r.org} ${r.keyId} ${r.model}`,
      ),
    );
    expect(new Set(rows).size).toBe(5);
    expect(rows[0]!.startsWith("2026-11-25")).toBe(true);
  });

  it("orders rows field by field: an id that begins another's comes first, on every page", async () => {
    for (const u of [
      usage("r6", { time: "2026-11-27T09:00:00.000Z", org: "ab-c", keyId: "k" }),
      usage("r7", { time: "2026-11-27T09:00:00.000Z", org: "ab", keyId: "k-2" }),
      usage("r8", { time: "2026-11-27T09:00:00.000Z", org: "ab", keyId: "k" }),
      usage("r9", { time: "2026-11-27T09:00:00.000Z", org: "ab", keyId: "k", providerModel: "m|2" }),
      usage("r10", { time: "2026-11-27T09:00:00.000Z", org: "ab", keyId: "k", providerModel: "m" }),
    ])
      await f.deps.spend!.record(u);
    const expected = ["ab k gpt-4o", "ab k m", "ab k m|2", "ab k-2 gpt-4o", "ab-c k gpt-4o"];
    const all = await report("from=2026-11-27&to=2026-11-27");
    expect(all.data.map((r) => `${r.org} ${r.keyId} ${r.model}`)).toEqual(expected);
    const paged: string[] = [];
    let after = "";
    do {
      const p = await report(`from=2026-11-27&to=2026-11-27&limit=1${after}`);
      paged.push(...p.data.map((r) => `${r.org} ${r.keyId} ${r.model}`));
      after = p.has_more ? `&after=${encodeURIComponent(p.last_id!)}` : "";
    } while (after);
    expect(paged).toEqual(expected);
  });

  it("reports an empty range as zero totals, not an error", async () => {
    const r = await report("from=2026-01-01&to=2026-01-31");
    expect(r).toMatchObject({ data: [], totals: { requests: 0, costUsd: 0 } });
  });

  it.each([
    ["no range", "", "from", "missing_required_parameter"],
    ["no end", "from=2026-11-25", "to", "missing_required_parameter"],
    ["a day that is not YYYY-MM-DD", "from=2026-11-5&to=2026-11-26", "from", "invalid_request_body"],
    ["a start after the end", "from=2026-11-27&to=2026-11-26", "from", "invalid_request_body"],
    ["a day no calendar has", "from=2026-02-30&to=2026-03-01", "from", "invalid_request_body"],
    ["a range over 366 days", "from=2024-01-01&to=2026-11-26", "from", "range_too_large"],
    ["367 days, counting both ends", "from=2025-01-01&to=2026-01-02", "from", "range_too_large"],
    [
      "a page larger than 10 000 rows",
      "from=2026-11-25&to=2026-11-26&limit=10001",
      "limit",
      "invalid_request_body",
    ],
    ["a parameter given twice", "from=2026-11-25&to=2026-11-26&org=a&org=b", "org", "repeated_parameter"],
    ["a cursor no page gave", "from=2026-11-25&to=2026-11-26&after=garbage", "after", "invalid_request_body"],
    [
      "a cursor shaped like a row that the report does not have",
      `from=2026-11-25&to=2026-11-26&after=${encodeURIComponent("2026-11-26|acme|k1|openai|zzz")}`,
      "after",
      "invalid_request_body",
    ],
    [
      "a cursor of a row outside the range",
      `from=2026-11-26&to=2026-11-26&after=${encodeURIComponent("2026-11-25|acme|k1|openai|gpt-4o")}`,
      "after",
      "invalid_request_body",
    ],
    [
      "an unknown parameter",
      "from=2026-11-25&to=2026-11-26&provider=openai",
      "provider",
      "invalid_request_body",
    ],
    [
      "a parameter named __proto__",
      "from=2026-11-25&to=2026-11-26&__proto__=x",
      "__proto__",
      "invalid_request_body",
    ],
    [
      "an org id no org can have (capitals)",
      "from=2026-11-25&to=2026-11-26&org=ACME",
      "org",
      "invalid_request_body",
    ],
    [
      "an org id past 63 characters",
      `from=2026-11-25&to=2026-11-26&org=${"a".repeat(64)}`,
      "org",
      "invalid_request_body",
    ],
    ["an org id with a NUL", "from=2026-11-25&to=2026-11-26&org=acme%00", "org", "invalid_request_body"],
    ["a key id no key can have", "from=2026-11-25&to=2026-11-26&key=k%20two", "key", "invalid_request_body"],
  ])("refuses %s with a 400 naming the parameter", async (_, query, param, code) => {
    const res = await f.call("GET", `/admin/spend?${query}`);
    expect(res.status).toBe(400);
    expect(errorOf(res.json)).toMatchObject({ param, code });
  });

  it("takes 366 days, counting both ends", async () => {
    expect((await f.call("GET", "/admin/spend?from=2025-01-01&to=2026-01-01")).status).toBe(200);
  });

  it.each(["GET", "DELETE"])(
    "answers %s below /admin/spend 404 unknown_url: the report has no items",
    async (method) => {
      const res = await f.call(method, "/admin/spend/x");
      expect(res.status).toBe(404);
      expect(errorOf(res.json).code).toBe("unknown_url");
    },
  );

  it("answers 501 where no spend store is wired", async () => {
    f.deps.spend = undefined;
    const res = await f.call("GET", "/admin/spend?from=2026-11-25&to=2026-11-26");
    expect(res.status).toBe(501);
    expect(errorOf(res.json).code).toBe("not_implemented");
  });

  it("is for admin keys only", async () => {
    const res = await f.call("GET", "/admin/spend?from=2026-11-25&to=2026-11-26", undefined, "api-secret");
    expect(res.status).toBe(403);
  });
});
