import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exportPage } from "../../../core/admin/audit-page.ts";
import { answerBytes, PAGE_BYTES } from "../../../core/admin/page.ts";
import { GatewayError } from "../../../core/api/errors.ts";
import { nextEntry } from "../../../core/audit/chain.ts";
import { type AuditExport, mergeExportPages } from "../../../core/audit/export.ts";
import { readExportPages } from "../../../core/audit/export-pages.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { AuditStore, Signer } from "../../../core/audit/port.ts";
import { createSqliteAuditStore } from "../../../core/audit/sqlite-store.ts";
import type { AuditRecord } from "../../../core/audit/types.ts";
import { verifyChain } from "../../../core/audit/verify.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { CHAIN, record, signCheckpoint } from "../audit/fixtures.ts";

let dir: string;
let signer: Signer;
let db: DatabaseSync;
let store: AuditStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "audit-page-"));
  signer = await createLocalSigner(join(dir, "key.pem"));
});
beforeEach(() => {
  db?.close();
  db = openDatabase(":memory:");
  store = createSqliteAuditStore(db);
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Appends records n+1..n+count to the stored chain, signing a checkpoint at every multiple of `every`. */
async function grow(count: number, every = 10, data?: (i: number) => AuditRecord["data"]): Promise<void> {
  let head = await store.head(CHAIN);
  const start = head?.seq ?? 0;
  for (let i = start + 1; i <= start + count; i++) {
    head = nextEntry(head, data ? { ...record(i), data: data(i) } : record(i));
    await store.append(head);
    if (i === 1 || i % every === 0)
      await store.putCheckpoint(await signCheckpoint(signer, head, record(i).time));
  }
}

const page = (fromSeq: number, limit = 1000) => exportPage(store, CHAIN, signer, { fromSeq, limit });

const allPages = (limit = 1000): Promise<AuditExport[]> =>
  readExportPages((fromSeq) => page(fromSeq, limit), limit);

const verify = async (e: AuditExport, maxUnsigned = 10) =>
  verifyChain({ ...e, publicKeyPem: await signer.publicKeyPem(), maxUnsigned });

describe("the admin export of an audit chain, a page at a time", () => {
  it("pages by `limit`: each says where the chain goes on, verifies alone, and all merged verify as the chain", async () => {
    await grow(250);
    const pages = await allPages(100);
    expect(pages.map((p) => [p.fromSeq ?? 1, p.entries.length, p.next])).toEqual([
      [1, 100, 101],
      [101, 100, 201],
      [201, 50, undefined],
    ]);
    expect(pages[1]!.checkpoints.map((c) => c.seq)).toEqual([
      110, 120, 130, 140, 150, 160, 170, 180, 190, 200,
    ]);
    for (const p of pages) expect(await verify(p)).toMatchObject({ ok: true, entries: p.entries.length });
    const merged = mergeExportPages(pages);
    expect(merged).not.toHaveProperty("fromSeq");
    expect(merged).not.toHaveProperty("next");
    expect(await verify(merged)).toMatchObject({
      ok: true,
      entries: 250,
      lastSignedSeq: 250,
      unsignedTail: 0,
    });
  });

  it("ends a page before its entries pass PAGE_BYTES as a Lambda answer carries them", async () => {
    // Records near the most a record may hold (MAX_DATA_BYTES, 192 KiB): a page of 1000 would be ~190 MB.
    await grow(60, 10, (i) => ({ n: i, blob: 'é"'.repeat(45_000) }));
    const pages = await allPages();
    expect(pages.length).toBeGreaterThan(2);
    for (const p of pages) {
      const bytes = p.entries.reduce((sum, e) => sum + answerBytes(e), 0);
      expect(bytes).toBeLessThanOrEqual(PAGE_BYTES);
      expect(p.entries.length).toBeGreaterThan(0);
    }
    expect(pages.flatMap((p) => p.entries.map((e) => e.seq))).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    expect(await verify(mergeExportPages(pages))).toMatchObject({ ok: true, entries: 60 });
  });

  it("leaves entries deleted from the store missing, for the verifier to call removed: in a page, or a page's worth", async () => {
    await grow(40);
    db.prepare("DELETE FROM audit_entries WHERE seq = 15").run();
    expect(await verify(await page(11, 10))).toMatchObject({ ok: false, seq: 15, problem: "removed" });
    db.prepare("DELETE FROM audit_entries WHERE seq BETWEEN 21 AND 30").run();
    const gone = await page(21, 10);
    expect(gone).toMatchObject({ fromSeq: 21, next: 31, entries: [] });
    expect(await verify(gone)).toMatchObject({ ok: false, seq: 21, problem: "removed" });
    expect(await verify(mergeExportPages(await allPages(10)))).toMatchObject({
      ok: false,
      seq: 15,
      problem: "removed",
    });
  });

  it("gives the last page the first checkpoint past its entries, so a chain cut short reads as removed", async () => {
    await grow(50);
    db.prepare("DELETE FROM audit_entries WHERE seq > 25").run();
    const last = await page(21);
    expect(last.next).toBeUndefined();
    expect(last.checkpoints.map((c) => c.seq)).toEqual([30]);
    expect(await verify(last)).toMatchObject({ ok: false, seq: 26, problem: "removed" });
  });

  it("reads a checkpoint signed while it read as the chain growing, not as a cut: the page then goes on", async () => {
    await grow(30);
    const growing: AuditStore = {
      ...store,
      // Between the entries' read and the checkpoints': ten more appended, and signed at 40.
      checkpoints: async (chain, from, to) => {
        if ((await store.head(CHAIN))!.seq === 30) await grow(10);
        return store.checkpoints(chain, from, to);
      },
    };
    const p = await exportPage(growing, CHAIN, signer, { fromSeq: 21, limit: 1000 });
    expect(p).toMatchObject({ fromSeq: 21, next: 31 });
    expect(p.checkpoints.map((c) => c.seq)).toEqual([30]);
    expect(await verify(p)).toMatchObject({ ok: true, entries: 10 });
  });

  it.each([
    ["an unknown chain", "nobody", 1, 404],
    ["a fromSeq past the head", CHAIN, 11, 400],
  ])("refuses %s", async (_what, chain, fromSeq, status) => {
    await grow(10);
    const err = await exportPage(store, chain, signer, { fromSeq, limit: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(status);
  });
});
