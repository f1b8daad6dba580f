import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointPayload, entryHash, nextEntry } from "../../../core/audit/chain.ts";
import { createKmsSigner } from "../../../core/audit/kms-signer.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { Signer } from "../../../core/audit/port.ts";
import type { ChainEntry, Checkpoint } from "../../../core/audit/types.ts";
import { verifyChain } from "../../../core/audit/verify.ts";
import { startKmsEmulator } from "../../emulators/kms.ts";
import { buildChain, clone, record, rehashFrom, signCheckpoint } from "./fixtures.ts";

/**
 * The tamper matrix: a chain of 250 entries, checkpoints signed at seq 100 and 200, an unsigned tail of
 * 50. Each case tampers with a copy and asserts the seq and problem the verifier reports.
 */
const N = 250;
const K = 150; // the tampered seq, between checkpoints 100 and 200

let dir: string;
let signer: Signer;
let otherSigner: Signer;
let pem: string;
let pristine: { entries: ChainEntry[]; checkpoints: Checkpoint[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "audit-verify-"));
  signer = await createLocalSigner(join(dir, "key.pem"));
  otherSigner = await createLocalSigner(join(dir, "other.pem"));
  pem = await signer.publicKeyPem();
  pristine = await buildChain(signer, N, 100);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = () => clone(pristine);
const idx = (seq: number) => seq - 1;
const verify = (c: { entries: ChainEntry[]; checkpoints: Checkpoint[] }, extra = {}) =>
  verifyChain({ entries: c.entries, checkpoints: c.checkpoints, publicKeyPem: pem, ...extra });

function expectTamper(
  c: { entries: ChainEntry[]; checkpoints: Checkpoint[] },
  seq: number,
  problem: string,
  detail?: RegExp,
) {
  const result = verify(c);
  expect(result).toMatchObject({ ok: false, seq, problem });
  if (detail && !result.ok) expect(result.detail).toMatch(detail);
}

/** A forged entry that fits at seq `seq` after `prev`: self-consistent hash, correct link. */
const forged = (prev: ChainEntry, tag = "forged") =>
  nextEntry(prev, { ...record(9999), eventId: tag, data: { action: "grant-admin", by: "mallory" } });

/** Replaces checkpoints' headHash with the (forged) chain's hashes, keeping the now-invalid signatures. */
const restamp = (c: { entries: ChainEntry[]; checkpoints: Checkpoint[] }) => {
  for (const cp of c.checkpoints) cp.headHash = c.entries[idx(cp.seq)]!.hash;
};

describe("verifyChain: a chain signed across a key rotation", () => {
  /** Checkpoint 100 signed by the old key, checkpoint 200 by the new one (the key file replaced). */
  const rotated = async () => {
    const c = fresh();
    c.checkpoints[1] = await signCheckpoint(otherSigner, c.entries[idx(200)]!, c.checkpoints[1]!.time);
    return c;
  };

  it("verifies with both public keys given", async () => {
    const c = await rotated();
    const both = [pem, await otherSigner.publicKeyPem()];
    expect(verify(c, { publicKeyPem: both })).toMatchObject({ ok: true, checkpoints: 2, lastSignedSeq: 200 });
  });

  it("refuses the keys given out of their order, the last checkpoint being the old key's", async () => {
    const c = await rotated();
    const result = verify(c, { publicKeyPem: [await otherSigner.publicKeyPem(), pem] });
    expect(result).toMatchObject({ ok: false, seq: 200, problem: "bad_signature" });
  });

  it("refuses a chain re-signed after the rotation with the retired key", async () => {
    // Whoever kept the old private key rewrites entry 150, re-hashes and signs every checkpoint with it.
    const c = fresh();
    c.entries[idx(K)]!.record.actor = "mallory";
    c.entries = rehashFrom(c.entries, idx(K));
    c.checkpoints = await Promise.all(
      c.checkpoints.map((cp) => signCheckpoint(signer, c.entries[idx(cp.seq)]!, cp.time)),
    );
    const both = [pem, await otherSigner.publicKeyPem()];
    expect(verify(c, { publicKeyPem: both })).toMatchObject({ ok: false, problem: "bad_signature" });
  });

  it("refuses a checkpoint that goes back to the retired key after the new one signed", async () => {
    const c = await rotated();
    c.checkpoints[0] = await signCheckpoint(otherSigner, c.entries[idx(100)]!, c.checkpoints[0]!.time);
    c.checkpoints[1] = await signCheckpoint(signer, c.entries[idx(200)]!, c.checkpoints[1]!.time);
    const both = [pem, await otherSigner.publicKeyPem()];
    const result = verify(c, { publicKeyPem: both });
    expect(result).toMatchObject({ ok: false, seq: 200, problem: "bad_signature" });
    if (!result.ok) expect(result.detail).toMatch(/retired key/);
  });

  it.each([
    ["the old key alone", "old", 200],
    ["the new key alone", "new", 100],
  ])("names the first checkpoint %s cannot verify", async (_, which, seq) => {
    const c = await rotated();
    const key = which === "old" ? pem : await otherSigner.publicKeyPem();
    expect(verify(c, { publicKeyPem: [key] })).toMatchObject({ ok: false, seq, problem: "bad_signature" });
  });
});

describe("verifyChain: untouched", () => {
  it("verifies, and reports the unsigned tail", () => {
    expect(verify(fresh())).toEqual({
      ok: true,
      chain: "org-acme",
      entries: 250,
      checkpoints: 2,
      lastSignedSeq: 200,
      unsignedTail: 50,
      fromSeq: 1,
    });
  });

  it("an empty chain verifies", () => {
    expect(verifyChain({ entries: [], checkpoints: [], publicKeyPem: pem, chain: "x" })).toMatchObject({
      ok: true,
      entries: 0,
      unsignedTail: 0,
    });
  });

  it("a chain signed through KMS verifies with the KMS public key", async () => {
    const kms = await startKmsEmulator();
    try {
      const kmsSigner = createKmsSigner(kms.client(), kms.createKey().arn);
      const chain = await buildChain(kmsSigner, 120, 50);
      const result = verifyChain({ ...chain, publicKeyPem: await kmsSigner.publicKeyPem(), maxUnsigned: 50 });
      expect(result).toMatchObject({
        ok: true,
        entries: 120,
        checkpoints: 2,
        lastSignedSeq: 100,
        unsignedTail: 20,
      });
      expect(verifyChain({ ...chain, publicKeyPem: pem, maxUnsigned: 50 })).toMatchObject({
        ok: false,
        seq: 50,
        problem: "bad_signature",
      });
    } finally {
      await kms.stop();
    }
  });

  it("checkpoint order in the file does not matter", () => {
    const c = fresh();
    c.checkpoints.reverse();
    expect(verify(c)).toMatchObject({ ok: true });
  });

  it("refuses a public key that is not EC P-256", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    expect(() => verifyChain({ ...fresh(), publicKeyPem: rsa.toString() })).toThrow(/EC P-256/);
  });
});

describe("verifyChain: tamper matrix", () => {
  describe("altered", () => {
    it("a field of record k", () => {
      const c = fresh();
      (c.entries[idx(K)]!.record.data as { n: number }).n = 1;
      expectTamper(c, K, "altered", /SHA-256\(prevHash ‖ canonical\(record\)\)/);
    });

    it("a field added to record k", () => {
      const c = fresh();
      (c.entries[idx(K)]!.record as unknown as Record<string, unknown>).extra = true;
      expectTamper(c, K, "altered");
    });

    it("a record in the unsigned tail (the links still protect it)", () => {
      const c = fresh();
      c.entries[idx(230)]!.record.actor = "key_admin";
      expectTamper(c, 230, "altered");
    });

    it("the stored hash of entry k", () => {
      const c = fresh();
      c.entries[idx(K)]!.hash = "f".repeat(64);
      expectTamper(c, K, "altered");
    });

    it("the prevHash of entry k", () => {
      const c = fresh();
      c.entries[idx(K)]!.prevHash = "e".repeat(64);
      expectTamper(c, K, "altered");
    });

    it("record k altered and re-hashed alone: the next link breaks", () => {
      const c = fresh();
      const e = c.entries[idx(K)]!;
      e.record.actor = "key_admin";
      c.entries[idx(K)] = nextEntry(c.entries[idx(K - 1)], e.record);
      expectTamper(c, K + 1, "bad_link", new RegExp(`seq ${K} was replaced`));
    });
  });

  describe("removed", () => {
    it("entry k", () => {
      const c = fresh();
      c.entries.splice(idx(K), 1);
      expectTamper(c, K, "removed", new RegExp(`seq ${K} is missing`));
    });

    it("entries k..k+2", () => {
      const c = fresh();
      c.entries.splice(idx(K), 3);
      expectTamper(c, K, "removed", new RegExp(`seqs ${K}–${K + 2} are missing`));
    });

    it("entry k, later seqs renumbered (not re-hashed): the link breaks at k", () => {
      const c = fresh();
      c.entries.splice(idx(K), 1);
      for (const e of c.entries.slice(idx(K))) e.seq--;
      expectTamper(c, K, "bad_link");
    });

    it("entry 1, renumbered: seq 1 no longer starts from the genesis hash", () => {
      const c = fresh();
      c.entries.shift();
      for (const e of c.entries) e.seq--;
      expectTamper(c, 1, "bad_link", /genesis/);
    });

    it("entry k, every later hash recomputed: checkpoint 200 no longer matches", () => {
      const c = fresh();
      c.entries.splice(idx(K), 1);
      c.entries = rehashFrom(c.entries, idx(K));
      expectTamper(c, 200, "altered", /seqs 101–200/);
    });
  });

  describe("inserted", () => {
    it("a forged entry at k, claiming seq k (later seqs unchanged)", () => {
      const c = fresh();
      c.entries.splice(idx(K), 0, forged(c.entries[idx(K - 1)]!));
      expectTamper(c, K, "inserted", new RegExp(`second entry claims seq ${K}`));
    });

    it("a forged entry at k, later seqs renumbered (not re-hashed)", () => {
      const c = fresh();
      c.entries.splice(idx(K), 0, forged(c.entries[idx(K - 1)]!));
      for (const e of c.entries.slice(idx(K) + 1)) e.seq++;
      expectTamper(c, K, "inserted", new RegExp(`links to seq ${K - 1}`));
    });

    it("a forged entry at k with every later hash recomputed: caught by checkpoint 200's signed head", () => {
      const c = fresh();
      c.entries.splice(idx(K), 0, forged(c.entries[idx(K - 1)]!));
      c.entries = rehashFrom(c.entries, idx(K));
      expectTamper(c, 200, "altered", /signed head hash/);
    });

    it("…and the checkpoints re-stamped with the new heads: their signatures fail", () => {
      const c = fresh();
      c.entries.splice(idx(K), 0, forged(c.entries[idx(K - 1)]!));
      c.entries = rehashFrom(c.entries, idx(K));
      restamp(c);
      expectTamper(c, 200, "bad_signature");
    });

    it("an entry of another chain", () => {
      const c = fresh();
      const prevHash = c.entries[idx(K - 1)]!.hash;
      const r = record(K, "org-other");
      c.entries[idx(K)] = { chain: "org-other", seq: K, prevHash, hash: entryHash(prevHash, r), record: r };
      expectTamper(c, K, "inserted", /org-other/);
    });

    it("a duplicate of entry k", () => {
      const c = fresh();
      c.entries.splice(idx(K) + 1, 0, clone(c.entries[idx(K)]!));
      expectTamper(c, K, "inserted");
    });
  });

  describe("reordered", () => {
    it("entries k and k+1 swapped", () => {
      const c = fresh();
      [c.entries[idx(K)], c.entries[idx(K + 1)]] = [c.entries[idx(K + 1)]!, c.entries[idx(K)]!];
      expectTamper(c, K, "reordered");
    });

    it("entries k and k+1 swapped, seqs renumbered", () => {
      const c = fresh();
      [c.entries[idx(K)], c.entries[idx(K + 1)]] = [c.entries[idx(K + 1)]!, c.entries[idx(K)]!];
      c.entries[idx(K)]!.seq = K;
      c.entries[idx(K + 1)]!.seq = K + 1;
      expectTamper(c, K, "reordered", /comes after it/);
    });

    it("entries k and k+1 swapped and the chain re-hashed: checkpoint 200", () => {
      const c = fresh();
      [c.entries[idx(K)], c.entries[idx(K + 1)]] = [c.entries[idx(K + 1)]!, c.entries[idx(K)]!];
      c.entries = rehashFrom(c.entries, idx(K));
      expectTamper(c, 200, "altered");
    });
  });

  describe("a forger without the key re-hashes everything after an alteration", () => {
    const rewritten = () => {
      const c = fresh();
      c.entries[idx(K)]!.record.actor = "key_admin";
      c.entries = rehashFrom(c.entries, idx(K));
      return c;
    };

    it("checkpoints left alone: checkpoint 200's head hash no longer matches", () => {
      expectTamper(rewritten(), 200, "altered", /seqs 101–200 were altered/);
    });

    it("checkpoints re-stamped with the new head hash: bad signature", () => {
      const c = rewritten();
      restamp(c);
      expectTamper(c, 200, "bad_signature", /does not verify/);
    });

    it("checkpoints re-stamped and signatures removed: missing signature", () => {
      const c = rewritten();
      restamp(c);
      for (const cp of c.checkpoints) if (cp.seq >= K) cp.signature = "";
      expectTamper(c, 200, "missing_signature");
    });

    it("checkpoints re-signed with the forger's own key: bad signature", async () => {
      const c = rewritten();
      c.checkpoints[1] = await signCheckpoint(otherSigner, c.entries[idx(200)]!, c.checkpoints[1]!.time);
      expectTamper(c, 200, "bad_signature", new RegExp(otherSigner.keyId));
    });

    it("checkpoint 200 deleted: more than 100 entries unsigned", () => {
      const c = rewritten();
      c.checkpoints = c.checkpoints.filter((cp) => cp.seq !== 200);
      expectTamper(c, 200, "missing_signature", /seqs 101–250/);
    });
  });

  describe("checkpoints", () => {
    it("a corrupted signature", () => {
      const c = fresh();
      const sig = Buffer.from(c.checkpoints[0]!.signature, "base64");
      sig[sig.length - 1]! ^= 0x01;
      c.checkpoints[0]!.signature = sig.toString("base64");
      expectTamper(c, 100, "bad_signature");
    });

    it("a signature that is not even DER", () => {
      const c = fresh();
      c.checkpoints[1]!.signature = "not a signature";
      expectTamper(c, 200, "bad_signature");
    });

    it("a dropped signature", () => {
      const c = fresh();
      c.checkpoints[0]!.signature = "";
      expectTamper(c, 100, "missing_signature", /no signature/);
    });

    it("a deleted checkpoint", () => {
      const c = fresh();
      c.checkpoints.shift();
      expectTamper(c, 100, "missing_signature", /seqs 1–200/);
    });

    it("an edited checkpoint time, or seq", () => {
      const c = fresh();
      c.checkpoints[0]!.time = "2030-01-01T00:00:00.000Z";
      expectTamper(c, 100, "bad_signature");
      const d = fresh();
      d.checkpoints[1]!.seq = 199;
      d.checkpoints[1]!.headHash = d.entries[idx(199)]!.hash;
      expectTamper(d, 199, "bad_signature");
    });

    it("the wrong public key", () => {
      expect(verifyChain({ ...fresh(), publicKeyPem: generateP256Pem() })).toMatchObject({
        ok: false,
        seq: 100,
        problem: "bad_signature",
      });
    });
  });

  describe("truncated", () => {
    it("below a checkpoint: the signed entries are missing", () => {
      const c = fresh();
      c.entries.length = 180;
      expectTamper(c, 181, "removed", /truncated/);
    });

    it("limitation: the unsigned tail can be cut without trace (the result shows the shorter tail)", () => {
      const c = fresh();
      c.entries.length = 230;
      expect(verify(c)).toMatchObject({ ok: true, entries: 230, lastSignedSeq: 200, unsignedTail: 30 });
    });

    it("limitation: cutting below a checkpoint and deleting it leaves a valid prefix", () => {
      const c = fresh();
      c.entries.length = 180;
      c.checkpoints.pop();
      expect(verify(c)).toMatchObject({ ok: true, lastSignedSeq: 100, unsignedTail: 80 });
    });

    it("limitation: an insertion into the unsigned tail, re-hashed, is not detectable", () => {
      const c = fresh();
      c.entries.splice(idx(220), 0, forged(c.entries[idx(219)]!));
      c.entries = rehashFrom(c.entries, idx(220));
      expect(verify(c)).toMatchObject({ ok: true, unsignedTail: 51 });
    });
  });

  describe("first bad seq wins", () => {
    it("a bad checkpoint 100 before an altered entry 150", () => {
      const c = fresh();
      c.checkpoints[0]!.signature = "";
      c.entries[idx(K)]!.record.actor = "x";
      expectTamper(c, 100, "missing_signature");
    });

    it("an altered entry 50 before a bad checkpoint 200", () => {
      const c = fresh();
      c.checkpoints[1]!.signature = "";
      c.entries[idx(50)]!.record.actor = "x";
      expectTamper(c, 50, "altered");
    });

    it("an altered entry 100 before the checkpoint at the same seq", () => {
      const c = fresh();
      c.entries[idx(100)]!.record.actor = "x";
      expectTamper(c, 100, "altered", /SHA-256/);
    });
  });

  describe("maxUnsigned", () => {
    it("is the longest run of unsigned entries allowed", async () => {
      const chain = await buildChain(signer, 300, 150);
      expect(verify(chain)).toMatchObject({ ok: false, seq: 100, problem: "missing_signature" });
      expect(verify(chain, { maxUnsigned: 150 })).toMatchObject({
        ok: true,
        checkpoints: 2,
        unsignedTail: 0,
      });
    });

    it("a run longer than maxUnsigned before a checkpoint means one was removed", async () => {
      const chain = await buildChain(signer, 220, 110);
      expect(verify(chain)).toMatchObject({ ok: false, seq: 100, problem: "missing_signature" });
    });

    it.each([1, 40])(
      "a chain of %i entries that no checkpoint signs had its checkpoints removed",
      async (n) => {
        const chain = await buildChain(signer, n, 1000);
        expect(verify({ ...chain, checkpoints: [] })).toMatchObject({
          ok: false,
          seq: 1,
          problem: "missing_signature",
        });
      },
    );
  });
});

describe("verifyChain: a page of a longer chain (fromSeq, next)", () => {
  /** Seqs from..to of the pristine chain, as the admin export pages it (checkpoints of its range). */
  const pageOf = (from: number, to: number, last = to === N) => {
    const c = fresh();
    return {
      entries: c.entries.slice(idx(from), to),
      checkpoints: c.checkpoints.filter((cp) => cp.seq >= from && (last || cp.seq <= to)),
      fromSeq: from,
      ...(last ? {} : { next: to + 1 }),
    };
  };
  const verifyPage = (p: ReturnType<typeof pageOf>) => verifyChain({ ...p, publicKeyPem: pem });

  it("verifies a middle page, its entries up to its checkpoint signed and the rest left to the next page", () => {
    expect(verifyPage(pageOf(51, 150))).toEqual({
      ok: true,
      chain: pristine.entries[0]!.chain,
      entries: 100,
      checkpoints: 1,
      lastSignedSeq: 100,
      unsignedTail: 50,
      fromSeq: 51,
      next: 151,
    });
  });

  it("verifies a page no checkpoint falls in, signing nothing of it", () => {
    expect(verifyPage(pageOf(101, 130))).toMatchObject({
      ok: true,
      checkpoints: 0,
      lastSignedSeq: 0,
      unsignedTail: 30,
    });
  });

  it.each([
    [
      "a record edited",
      (p: ReturnType<typeof pageOf>) => {
        p.entries[idx(K) - 50]!.record.actor = "mallory";
      },
      K,
      "altered",
    ],
    [
      "its first entry replaced by a forged one that links as it says (the next link breaks)",
      (p: ReturnType<typeof pageOf>) => {
        p.entries[0] = forged(fresh().entries[idx(50)]!);
      },
      52,
      "bad_link",
    ],
    [
      "every entry re-hashed from a forged first one (its checkpoint catches it)",
      (p: ReturnType<typeof pageOf>) => {
        const c = fresh();
        const forgedChain = rehashFrom(
          [...c.entries.slice(0, idx(51)), forged(c.entries[idx(50)]!), ...c.entries.slice(idx(52))],
          idx(52),
        );
        p.entries = forgedChain.slice(idx(51), 150);
      },
      100,
      "altered",
    ],
    [
      "an entry missing inside it",
      (p: ReturnType<typeof pageOf>) => void p.entries.splice(10, 1),
      61,
      "removed",
    ],
    [
      "its last entries missing (the page says where the chain goes on)",
      (p: ReturnType<typeof pageOf>) => void p.entries.splice(-5),
      146,
      "removed",
    ],
    [
      "entries past its `next`",
      (p: ReturnType<typeof pageOf>) => {
        p.next = 140;
      },
      140,
      "inserted",
    ],
  ])("finds %s", (_what, tamper, seq, problem) => {
    const p = pageOf(51, 150);
    tamper(p);
    expect(verifyPage(p)).toMatchObject({ ok: false, seq, problem });
  });

  it("leaves a checkpoint before the page alone, having no entry of it to judge", () => {
    const p = pageOf(101, 250);
    p.checkpoints.unshift({ ...pristine.checkpoints[0]!, headHash: "0".repeat(64) });
    expect(verifyPage(p)).toMatchObject({ ok: true, checkpoints: 1, lastSignedSeq: 200 });
  });

  it.each([
    ["the chain's last page", undefined],
    ["a page the chain goes on after (the writer never leaves more unsigned)", 251],
  ])("judges the unsigned tail of %s", (_what, next) => {
    const long = { ...pageOf(201, 250), entries: pristine.entries.slice(idx(201)), checkpoints: [] };
    expect(verifyChain({ ...long, next, publicKeyPem: pem, maxUnsigned: 40 })).toMatchObject({
      ok: false,
      seq: 240,
      problem: "missing_signature",
    });
  });
});

function generateP256Pem(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-256" })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();
}

// Sanity for the fixtures: the checkpoint payload the verifier checks is the one that was signed.
it("fixture checkpoints sign checkpointPayload", () => {
  const cp = pristine.checkpoints[0]!;
  expect(checkpointPayload(cp).toString()).toContain(`"seq":100`);
});
