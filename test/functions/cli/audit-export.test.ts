import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditExport, buildAuditExport } from "../../../core/audit/export.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { ChainEntry, Checkpoint } from "../../../core/audit/types.ts";
import { buildChain, CHAIN } from "../../core/audit/fixtures.ts";

/**
 * `npm run audit:export` against a gateway that does not answer as the gateway does: whatever it
 * sends, the exporter ends (exit 1, saying why) rather than looping, or writing a file that is not
 * the chain's pages in order.
 */
const CLI = join(import.meta.dirname, "../../../functions/cli/audit-export.ts");
let dir: string;
let chain: { entries: ChainEntry[]; checkpoints: Checkpoint[] };
let server: Server;
let url: string;
/** What the fake gateway answers for `?fromSeq=`. */
let answer: (fromSeq: number) => { status?: number; headers?: Record<string, string>; body?: AuditExport };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "audit-export-cli-"));
  chain = await buildChain(await createLocalSigner(join(dir, "key.pem")), 30, 10);
  server = createServer((req, res) => {
    const fromSeq = Number(new URL(req.url ?? "/", "http://x").searchParams.get("fromSeq"));
    const a = answer(fromSeq);
    res.writeHead(a.status ?? 200, { "content-type": "application/json", ...a.headers });
    res.end(a.body ? JSON.stringify(a.body) : "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const page = (fromSeq: number, to: number, next?: number): AuditExport =>
  buildAuditExport({
    chain: CHAIN,
    keyId: "k",
    fromSeq,
    next,
    entries: chain.entries.filter((e) => e.seq >= fromSeq && e.seq <= to),
    checkpoints: [],
  });

/** Not spawnSync: the fake gateway answering the CLI runs in this process. */
const run = (...args: string[]) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, "--url", url, "--chain", CHAIN, "--out", join(dir, "out.json"), ...args],
      {
        env: { PATH: process.env.PATH ?? "", GATEWAY_ADMIN_KEY: "sk-admin" },
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });

describe("npm run audit:export against a gateway that answers wrongly", () => {
  it("follows pages to the last one and writes them merged", async () => {
    answer = (from) => ({
      body: from === 1 ? page(1, 10, 11) : from === 11 ? page(11, 20, 21) : page(21, 30),
    });
    const r = await run("--limit", "10");
    expect(r.err).toBe("");
    expect(r.out).toMatch(/30 entries, 0 checkpoints, 3 pages/);
    expect(r.code).toBe(0);
  });

  it.each([
    [
      "pages that never end (no entries, one seq on each)",
      (from: number) => page(from, from - 1, from + 1),
      /the page from seq 1 ends at seq 1 without its entry/,
    ],
    [
      "a page that does not move on",
      (from: number) => page(from, from + 4, from),
      /goes on at seq 1: not a page/,
    ],
    [
      "a page longer than asked for",
      (from: number) => page(from, from + 19, from + 20),
      /not a page of at most 10/,
    ],
    [
      "a page holding seqs outside it",
      (from: number) => ({ ...page(from, from + 9, from + 10), entries: chain.entries.slice(0, 11) }),
      /holds seq 11, outside it/,
    ],
    [
      "a page of another start",
      (_from: number) => page(5, 14, 15),
      /asked for chain org-acme from seq 1, got org-acme from 5/,
    ],
    [
      "a page that ends short of what it asked, without its last entry",
      (from: number) => page(from, from + 4, from + 8),
      /the page from seq 1 ends at seq 8 without its entry/,
    ],
    [
      "a hundred empty pages in a row (a head forged far ahead of the entries)",
      (from: number) => (from > 10 ? page(from, from - 1, from + 10) : page(1, 10, 11)),
      /the store holds no entries from seq 11 through at least seq 1020 \(101 empty pages in a row\)/,
    ],
  ])("stops at %s", async (_what, make, message) => {
    answer = (from) => ({ body: make(from) as AuditExport });
    const r = await run("--limit", "10");
    expect(r.err).toMatch(message);
    expect(r.code).toBe(1);
  });

  it("follows no redirect, and says why it stopped", async () => {
    answer = () => ({ status: 307, headers: { location: "http://127.0.0.2:9/elsewhere" } });
    const r = await run();
    expect(r.err).toMatch(/audit:export: fetch failed: .*redirect/);
    expect(r.code).toBe(1);
  });

  it.each([
    [
      "plain HTTP to another machine",
      ["--url", "http://gateway.example.invalid"],
      /would travel unencrypted/,
    ],
    ["a scheme other than HTTP", ["--url", "ftp://127.0.0.1"], /must be http:\/\/ or https:\/\//],
    ["what is not a URL", ["--url", "gateway"], /is not a URL/],
  ])("refuses %s before sending the key anywhere (exit 2)", async (_what, args, message) => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, ...args, "--chain", CHAIN, "--out", join(dir, "never.json")],
        {
          env: { PATH: process.env.PATH ?? "", GATEWAY_ADMIN_KEY: "sk-admin" },
        },
      );
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d));
      child.on("close", (code) => resolve({ code, err }));
    });
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it("prints the gateway's error message and status", async () => {
    answer = () => ({ status: 401, body: { error: { message: "Incorrect API key provided." } } as never });
    const r = await run();
    expect(r.err).toMatch(/answered 401: Incorrect API key provided\./);
    expect(r.code).toBe(1);
  });
});
