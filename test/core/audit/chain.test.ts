import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonical } from "../../../core/audit/canonical.ts";
import {
  checkpointPayload,
  entryHash,
  nextEntry,
  sha256Hex,
  shouldCheckpoint,
} from "../../../core/audit/chain.ts";
import { type ChainEntry, type Checkpoint, GENESIS_HASH } from "../../../core/audit/types.ts";
import { record } from "./fixtures.ts";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("entryHash", () => {
  it("is SHA-256 over the 64 hex characters of prevHash followed by the canonical record", () => {
    const r = record(1);
    const bytes = Buffer.concat([Buffer.from(GENESIS_HASH, "ascii"), Buffer.from(canonical(r), "utf8")]);
    expect(entryHash(GENESIS_HASH, r)).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(entryHash(GENESIS_HASH, r)).toBe(sha256Hex(GENESIS_HASH + canonical(r)));
  });

  it("does not depend on key order, does depend on every value and on prevHash", () => {
    const r = record(2);
    const shuffled = {
      data: r.data,
      actor: r.actor,
      time: r.time,
      kind: r.kind,
      chain: r.chain,
      eventId: r.eventId,
    };
    expect(entryHash(GENESIS_HASH, shuffled)).toBe(entryHash(GENESIS_HASH, r));
    expect(entryHash(GENESIS_HASH, { ...r, actor: "someone" })).not.toBe(entryHash(GENESIS_HASH, r));
    expect(entryHash("1".repeat(64), r)).not.toBe(entryHash(GENESIS_HASH, r));
  });

  it("rejects a prevHash that is not 64 lowercase hex characters", () => {
    expect(() => entryHash("ABC", record(1))).toThrow(/64 lowercase hex/);
    expect(() => entryHash("A".repeat(64), record(1))).toThrow(/64 lowercase hex/);
  });

  it.skipIf(!hasOpenssl)("is reproducible with openssl dgst -sha256", () => {
    const r = record(3);
    const prev = sha256Hex("anything");
    const out = execFileSync("openssl", ["dgst", "-sha256", "-r"], { input: prev + canonical(r) }).toString();
    expect(out.split(" ")[0]).toBe(entryHash(prev, r));
  });
});

describe("nextEntry", () => {
  it("starts at seq 1 after the genesis hash and links each entry to the previous one", () => {
    const first = nextEntry(undefined, record(1));
    expect(first).toMatchObject({ chain: "org-acme", seq: 1, prevHash: GENESIS_HASH });
    expect(first.hash).toBe(entryHash(GENESIS_HASH, record(1)));
    const second = nextEntry(first, record(2));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, hash: entryHash(first.hash, record(2)) });
    expect(second.record).toEqual(record(2));
  });

  it("refuses a record of another chain", () => {
    expect(() => nextEntry(nextEntry(undefined, record(1)), record(2, "system"))).toThrow(/chain system/);
  });
});

describe("checkpointPayload", () => {
  it("is the canonical JSON of chain, seq, headHash and time only", () => {
    const c: Checkpoint = {
      chain: "org-acme",
      seq: 100,
      headHash: "ab".repeat(32),
      time: "2025-01-01T00:00:00.000Z",
      signature: "c2ln",
      keyId: "local:x",
    };
    expect(checkpointPayload(c).toString("utf8")).toBe(
      `{"chain":"org-acme","headHash":"${"ab".repeat(32)}","seq":100,"time":"2025-01-01T00:00:00.000Z"}`,
    );
    const resigned: Checkpoint = { ...c, signature: "", keyId: "other" };
    expect(checkpointPayload(resigned)).toEqual(checkpointPayload(c));
    expect(checkpointPayload(c).length).toBeLessThan(4096);
  });
});

describe("shouldCheckpoint", () => {
  const head = (seq: number) => ({ seq }) as ChainEntry;
  const cp = (seq: number, time: string) => ({ seq, time }) as Checkpoint;
  const t0 = Date.parse("2025-01-01T00:00:00.000Z");

  it("not for an empty chain; immediately for a chain without a checkpoint", () => {
    expect(shouldCheckpoint(undefined, undefined, t0)).toBe(false);
    expect(shouldCheckpoint(undefined, head(1), t0)).toBe(true);
  });

  it("every N entries (default 100)", () => {
    const last = cp(100, new Date(t0).toISOString());
    expect(shouldCheckpoint(last, head(199), t0 + 1000)).toBe(false);
    expect(shouldCheckpoint(last, head(200), t0 + 1000)).toBe(true);
    expect(shouldCheckpoint(last, head(110), t0 + 1000, { everyEntries: 10 })).toBe(true);
  });

  it("every T ms (default 60 000) when something was appended", () => {
    const last = cp(100, new Date(t0).toISOString());
    expect(shouldCheckpoint(last, head(101), t0 + 59_999)).toBe(false);
    expect(shouldCheckpoint(last, head(101), t0 + 60_000)).toBe(true);
    expect(shouldCheckpoint(last, head(101), new Date(t0 + 5_000), { everyMs: 5_000 })).toBe(true);
    expect(shouldCheckpoint(last, head(100), t0 + 3_600_000)).toBe(false);
  });

  it("signs when the last checkpoint's time is unreadable", () => {
    expect(shouldCheckpoint(cp(1, "garbage"), head(2), t0)).toBe(true);
  });
});
