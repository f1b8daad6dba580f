import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type AuditExport,
  AuditExportError,
  mergeExportPages,
  parseAuditExport,
} from "../../core/audit/export.ts";

/**
 * `npm run audit:export -- --url <gateway URL> --chain <chain> --out <file> [--admin-key-env <NAME>] [--limit <n>]`
 *
 * Reads a chain from the admin API a page at a time (`GET /admin/audit/{chain}?fromSeq=`, following
 * each page's `next`; `--limit` entries a page, default the API's 1000) and writes it as one export for
 * `audit:verify`. The admin key comes from an
 * environment variable (default GATEWAY_ADMIN_KEY), never from the command line, where `ps` shows it.
 * Exit 0: written; 1: the gateway refused or answered with something that is not an export page; 2: usage.
 */
const USAGE =
  "usage: npm run audit:export -- --url <gateway URL> --chain <chain> --out <file> [--admin-key-env <NAME>] [--limit <n>]";

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      chain: { type: "string" },
      out: { type: "string" },
      "admin-key-env": { type: "string", default: "GATEWAY_ADMIN_KEY" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { url, chain, out } = values;
  if (!url || !chain || !out) throw new UsageError("--url, --chain and --out are required");
  const limit = values.limit;
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit))
    throw new UsageError("--limit must be a positive integer");
  const envName = values["admin-key-env"];
  const adminKey = process.env[envName];
  if (!adminKey) throw new UsageError(`the environment variable ${envName} (the admin key) is not set`);

  const pages: AuditExport[] = [];
  for (let fromSeq: number | undefined = 1; fromSeq !== undefined; ) {
    const page = await fetchPage(url, chain, fromSeq, limit, adminKey);
    if (page.next !== undefined && page.next <= fromSeq)
      throw new AuditExportError(`the page from seq ${fromSeq} goes on at seq ${page.next}, not past it`);
    pages.push(page);
    fromSeq = page.next;
  }
  const merged = mergeExportPages(pages);
  writeFileSync(out, JSON.stringify(merged));
  process.stdout.write(
    `wrote chain ${chain}: ${merged.entries.length} entries, ${merged.checkpoints.length} checkpoints, ${pages.length} page${pages.length === 1 ? "" : "s"}, to ${out}\n`,
  );
  return 0;
}

async function fetchPage(
  base: string,
  chain: string,
  fromSeq: number,
  limit: string | undefined,
  adminKey: string,
): Promise<AuditExport> {
  const query = `fromSeq=${fromSeq}${limit === undefined ? "" : `&limit=${limit}`}`;
  const url = `${base.replace(/\/+$/, "")}/admin/audit/${encodeURIComponent(chain)}?${query}`;
  // The admin API never redirects: one that does is not the gateway, and is not sent the key again.
  const res = await fetch(url, { headers: { authorization: `Bearer ${adminKey}` }, redirect: "error" });
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message ?? message;
    } catch {}
    throw new Error(`GET ${url} answered ${res.status}: ${message}`);
  }
  const page = parseAuditExport(JSON.parse(text));
  if ((page.fromSeq ?? 1) !== fromSeq || page.chain !== chain)
    throw new AuditExportError(
      `asked for chain ${chain} from seq ${fromSeq}, got ${page.chain} from ${page.fromSeq ?? 1}`,
    );
  return page;
}

try {
  process.exitCode = await main();
} catch (err) {
  const usage = err instanceof UsageError;
  const message =
    err instanceof SyntaxError ? `the gateway's answer is not JSON: ${err.message}` : (err as Error).message;
  process.stderr.write(`audit:export: ${message}${usage ? `\n${USAGE}` : ""}\n`);
  process.exitCode = usage ? 2 : 1;
}
