import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MAX_PAGE_SIZE } from "../../core/admin/page.ts";
import {
  type AuditExport,
  AuditExportError,
  mergeExportPages,
  parseAuditExport,
} from "../../core/audit/export.ts";
import { readExportPages } from "../../core/audit/export-pages.ts";

/**
 * `npm run audit:export -- --url <gateway URL> --chain <chain> --out <file> [--admin-key-env <NAME>] [--limit <n>] [--allow-http]`
 *
 * Reads a chain from the admin API a page at a time (`GET /admin/audit/{chain}?fromSeq=`, following
 * each page's `next`; `--limit` entries a page, default the API's 1000) and writes it as one export for
 * `audit:verify`. The admin key comes from an
 * environment variable (default GATEWAY_ADMIN_KEY), never from the command line, where `ps` shows it.
 * Exit 0: written; 1: the gateway refused or answered with something that is not an export page; 2: usage.
 */
const USAGE =
  "usage: npm run audit:export -- --url <gateway URL> --chain <chain> --out <file> [--admin-key-env <NAME>] [--limit <n>] [--allow-http]";

/** A page is at most 4 MiB of entries in a 6 MB answer; one slower than this is not coming. */
const PAGE_TIMEOUT_MS = 120_000;
const ANSWER_BYTES = 16 * 1024 * 1024;

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      chain: { type: "string" },
      out: { type: "string" },
      "admin-key-env": { type: "string", default: "GATEWAY_ADMIN_KEY" },
      limit: { type: "string" },
      "allow-http": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { url, chain, out } = values;
  if (!url || !chain || !out) throw new UsageError("--url, --chain and --out are required");
  checkUrl(url, values["allow-http"] ?? false);
  const limit = values.limit;
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit))
    throw new UsageError("--limit must be a positive integer");
  const envName = values["admin-key-env"];
  const adminKey = process.env[envName];
  if (!adminKey) throw new UsageError(`the environment variable ${envName} (the admin key) is not set`);

  const most = limit === undefined ? MAX_PAGE_SIZE : Number(limit);
  const pages = await readExportPages((fromSeq) => fetchPage(url, chain, fromSeq, limit, adminKey), most);
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
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${adminKey}` },
    redirect: "error",
    signal: AbortSignal.timeout(PAGE_TIMEOUT_MS),
  });
  const text = await cappedText(res);
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

/**
 * The gateway's URL: HTTPS, or plain HTTP to this machine (portable mode's default), since the admin key
 * goes with every page; `--allow-http` for a network the caller trusts.
 */
function checkUrl(url: string, allowHttp: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol === "https:") return;
  if (parsed.protocol !== "http:")
    throw new UsageError(`--url must be http:// or https://, not ${parsed.protocol}`);
  const loopback = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(parsed.hostname);
  if (!loopback && !allowHttp)
    throw new UsageError(
      `--url ${parsed.origin} is plain HTTP to another machine: the admin key would travel unencrypted. Use https://, or give --allow-http on a network you trust`,
    );
}

/** A page's answer, refused past ANSWER_BYTES: the gateway's are at most 6 MB (a Lambda's). */
async function cappedText(res: Response): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res.body ?? []) {
    bytes += chunk.byteLength;
    if (bytes > ANSWER_BYTES) throw new Error(`the gateway's answer passed ${ANSWER_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}

try {
  process.exitCode = await main();
} catch (err) {
  const usage = err instanceof UsageError;
  // fetch says only "fetch failed"; its cause says why (refused, a redirect, a timeout, TLS).
  const cause = (err as { cause?: unknown }).cause;
  const why = cause instanceof Error ? `: ${cause.message}` : "";
  const message =
    err instanceof SyntaxError
      ? `the gateway's answer is not JSON: ${err.message}`
      : `${(err as Error).message}${why}`;
  process.stderr.write(`audit:export: ${message}${usage ? `\n${USAGE}` : ""}\n`);
  process.exitCode = usage ? 2 : 1;
}
