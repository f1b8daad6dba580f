import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAuditExport } from "../../../core/audit/export.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { Signer } from "../../../core/audit/port.ts";
import { buildChain, CHAIN } from "../../core/audit/fixtures.ts";

const CLI = join(import.meta.dirname, "../../../functions/cli/audit-verify.ts");

let dir: string;
let signer: Signer;
let goodFile: string;
let keyFile: string;

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** The public part of a fresh P-256 key that signed nothing, in a file of the test's directory. */
const freshPublicKeyFile = (name: string): string => {
  const file = join(dir, name);
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(file, publicKey.export({ type: "spki", format: "pem" }));
  return file;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
  signer = await createLocalSigner(join(dir, "signing-key.pem"));
  keyFile = join(dir, "pub.pem");
  writeFileSync(keyFile, await signer.publicKeyPem());
  const chain = await buildChain(signer, 250);
  const exported = buildAuditExport({
    chain: CHAIN,
    keyId: signer.keyId,
    publicKeyPem: await signer.publicKeyPem(),
    ...chain,
  });
  goodFile = join(dir, "good.json");
  writeFileSync(goodFile, JSON.stringify(exported, null, 2));
  const tampered = structuredClone(exported);
  tampered.entries[149]!.record.actor = "key_admin";
  writeFileSync(join(dir, "tampered.json"), JSON.stringify(tampered));
  const { publicKeyPem: _, ...noKey } = exported;
  writeFileSync(join(dir, "nokey.json"), JSON.stringify(noKey));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run audit:verify", () => {
  it("exit 0 for an untouched chain, with the trusted key", () => {
    const r = run("--file", goodFile, "--public-key", keyFile);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/VERIFIED: chain org-acme: 250 entries, 2 signed checkpoints \(last at seq 200\)/);
    expect(r.out).toMatch(/last 50 entries are hash-linked but not yet covered/);
    expect(r.err).toBe("");
  });

  it("exit 0 with the embedded key, but warns that it proves nothing", () => {
    const r = run("--file", goodFile);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/WARNING: .*embedded .*proves nothing/s);
  });

  it("exit 1 for a tampered chain, naming the seq and the problem", () => {
    const r = run("--file", join(dir, "tampered.json"), "--public-key", keyFile);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED: chain org-acme, seq 150: altered/);
  });

  it("exit 1 when another key is given", () => {
    const other = freshPublicKeyFile("other.pem");
    const r = run("--file", goodFile, "--public-key", other);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/seq 100: bad_signature/);
  });

  it("takes several keys in the order they signed: the last given must sign the last checkpoint", () => {
    const retired = freshPublicKeyFile("rotation-retired.pem");
    const inOrder = run("--file", goodFile, "--public-key", retired, "--public-key", keyFile);
    expect([inOrder.code, inOrder.out]).toEqual([0, expect.stringMatching(/^VERIFIED/)]);
    const reversed = run("--file", goodFile, "--public-key", keyFile, "--public-key", retired);
    expect(reversed.code).toBe(1);
    expect(reversed.out).toMatch(/seq 200: bad_signature\n.*not signed by the last public key given/);
  });

  it.each([
    [
      "exit 0 for a page a checkpoint signs, saying it is a page",
      151,
      250,
      0,
      /^VERIFIED: chain org-acme \(a page: seqs 151–250; the chain goes on at seq 251;.*: 100 entries, 1 signed checkpoint \(last at seq 200\)/,
    ],
    [
      "exit 3 for a page no checkpoint signs: its entries are only linked",
      201,
      250,
      3,
      /^NOTHING SIGNED: chain org-acme \(a page: seqs 201–250; the chain goes on at seq 251;.*only hash-linked/,
    ],
  ])("%s", async (_what, from, to, code, out) => {
    const chain = await buildChain(signer, 300);
    const file = join(dir, `page-${from}.json`);
    const page = buildAuditExport({
      chain: CHAIN,
      keyId: signer.keyId,
      fromSeq: from,
      next: to + 1,
      entries: chain.entries.slice(from - 1, to),
      checkpoints: chain.checkpoints.filter((c) => c.seq >= from && c.seq <= to),
    });
    writeFileSync(file, JSON.stringify(page));
    const r = run("--file", file, "--public-key", keyFile, "--page");
    expect(r.out).toMatch(out);
    expect(r.code).toBe(code);
    // Without --page a page is not the chain, whatever it holds: anyone can write fromSeq or next.
    const whole = run("--file", file, "--public-key", keyFile);
    expect(whole.code).toBe(2);
    expect(whole.err).toMatch(/is a page of chain org-acme .*give --page to judge this page alone/);
  });

  it("refuses a whole chain given `next` as a page unless --page is given (exit 0 means the whole chain)", async () => {
    const chain = await buildChain(signer, 300);
    // Cut at 150 and called a page: as a whole chain it would read removed checkpoints.
    const file = join(dir, "cut-as-page.json");
    const cut = buildAuditExport({
      chain: CHAIN,
      keyId: signer.keyId,
      next: 151,
      entries: chain.entries.slice(0, 150),
      checkpoints: chain.checkpoints.filter((c) => c.seq <= 150),
    });
    writeFileSync(file, JSON.stringify(cut));
    expect(run("--file", file, "--public-key", keyFile).code).toBe(2);
  });

  it("--max-unsigned changes the allowed unsigned run", () => {
    const r = run("--file", goodFile, "--public-key", keyFile, "--max-unsigned", "40");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/seq 40: missing_signature/);
  });

  it("exit 2 for usage errors and unreadable input", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--file is required/],
      [["--file", join(dir, "missing.json")], /ENOENT/],
      [["--file", keyFile], /not JSON/],
      [["--file", join(dir, "nokey.json")], /embeds no public key/],
      [["--file", goodFile, "--public-key", goodFile], /unusable public key|DECODER|PEM/i],
      [["--file", goodFile, "--max-unsigned", "zero"], /positive integer/],
      [["--bogus"], /Unknown option/],
    ];
    writeFileSync(join(dir, "wrong.json"), JSON.stringify({ format: "nope" }));
    cases.push([["--file", join(dir, "wrong.json")], /not an llm-gateway-audit-export\/1 file/]);
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toMatch(message);
      expect(r.err).toMatch(/usage: npm run audit:verify/);
    }
  });
});
