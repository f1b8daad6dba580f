import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AuditExportError, parseAuditExport } from "../../core/audit/export.ts";
import { DEFAULT_MAX_UNSIGNED, verifyChain } from "../../core/audit/verify.ts";

/**
 * `npm run audit:verify -- --file export.json [--public-key key.pem …] [--max-unsigned 100] [--page]`
 *
 * Verifies an exported audit chain offline (core/audit/verify.ts): recomputes every hash link and checks
 * every checkpoint signature with the public key. Exit 0: verified; 1: tampered (the first bad seq and the
 * problem are printed); 2: usage error or unreadable input; 3: a page of a longer chain in which no
 * checkpoint signs anything (its entries are only linked to each other: nothing in it is vouched for).
 */
const USAGE =
  "usage: npm run audit:verify -- --file <export.json> [--public-key <key.pem> …] [--max-unsigned <n>] [--page]";

class UsageError extends Error {}

function main(): number {
  const { values } = parseArgs({
    options: {
      file: { type: "string" },
      "public-key": { type: "string", multiple: true },
      "max-unsigned": { type: "string" },
      page: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.file) throw new UsageError("--file is required");
  const maxUnsigned =
    values["max-unsigned"] === undefined ? DEFAULT_MAX_UNSIGNED : Number(values["max-unsigned"]);
  if (!Number.isInteger(maxUnsigned) || maxUnsigned < 1)
    throw new UsageError("--max-unsigned must be a positive integer");

  const exported = parseAuditExport(JSON.parse(readFileSync(values.file, "utf8")));
  // A page is judged by weaker rules (its first entry's link, the checks of the chain's start and end
  // are other pages'). Anyone can write `fromSeq` or `next` into a file, so exit 0 means "the whole
  // chain" unless the page rules were asked for.
  if (!values.page && ((exported.fromSeq ?? 1) !== 1 || exported.next !== undefined))
    throw new UsageError(
      `the file is a page of chain ${exported.chain} (from seq ${exported.fromSeq ?? 1}${exported.next === undefined ? "" : `, going on at seq ${exported.next}`}): verify the whole chain, written by npm run audit:export, or give --page to judge this page alone`,
    );
  let publicKeyPem: string | string[];
  if (values["public-key"]?.length) {
    // More than one: a chain signed across a key rotation, each checkpoint by one of them.
    publicKeyPem = values["public-key"].map((file) => readFileSync(file, "utf8"));
  } else if (exported.publicKeyPem) {
    publicKeyPem = exported.publicKeyPem;
    process.stderr.write(
      "WARNING: no --public-key given; using the key embedded in the export. An embedded key proves nothing " +
        "(a forger can replace it): verify with a trusted copy of the public key (--public-key).\n",
    );
  } else {
    throw new UsageError("the export embeds no public key: give one with --public-key");
  }

  let result: ReturnType<typeof verifyChain>;
  try {
    result = verifyChain({
      entries: exported.entries,
      checkpoints: exported.checkpoints,
      publicKeyPem,
      chain: exported.chain,
      maxUnsigned,
      fromSeq: exported.fromSeq,
      next: exported.next,
    });
  } catch (err) {
    throw new UsageError(`unusable public key: ${(err as Error).message}`);
  }
  if (!result.ok) {
    process.stdout.write(
      `TAMPERED: chain ${result.chain}, seq ${result.seq}: ${result.problem}\n  ${result.detail}\n`,
    );
    return 1;
  }
  const tail =
    result.unsignedTail === 0
      ? "every entry is covered by a signed checkpoint"
      : result.next !== undefined
        ? `the last ${result.unsignedTail} entr${result.unsignedTail === 1 ? "y is" : "ies are"} hash-linked, and signed (if at all) by a checkpoint in a later page`
        : `the last ${result.unsignedTail} entr${result.unsignedTail === 1 ? "y is" : "ies are"} hash-linked but not yet covered by a checkpoint`;
  const last = result.fromSeq + result.entries - 1;
  // A page proves its own signed entries; the chain before it and after it are other files' to prove.
  const range =
    result.fromSeq === 1 && result.next === undefined
      ? ""
      : ` (a page: ${result.entries === 0 ? `no entries from seq ${result.fromSeq}` : `seqs ${result.fromSeq}–${last}`}${result.next === undefined ? ", the chain's last" : `; the chain goes on at seq ${result.next}`}; verify the whole chain from npm run audit:export)`;
  if (range && result.checkpoints === 0 && result.entries > 0) {
    // Anyone can write entries that link to each other: without a checkpoint there is nothing to trust.
    process.stdout.write(
      `NOTHING SIGNED: chain ${result.chain}${range}: no checkpoint in this page signs its ${result.entries} entries, which are only hash-linked to each other.\n`,
    );
    return 3;
  }
  process.stdout.write(
    `VERIFIED: chain ${result.chain}${range}: ${result.entries} entries, ${result.checkpoints} signed checkpoint${result.checkpoints === 1 ? "" : "s"} (last at seq ${result.lastSignedSeq}); ${tail}.\n`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  const message =
    err instanceof UsageError || err instanceof AuditExportError
      ? err.message
      : err instanceof SyntaxError
        ? `the file is not JSON: ${err.message}`
        : String((err as Error).message ?? err);
  process.stderr.write(`audit:verify: ${message}\n${USAGE}\n`);
  process.exitCode = 2;
}
