import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEntry } from "../../../core/audit/chain.ts";
import {
  AUDIT_EXPORT_FORMAT,
  AuditExportError,
  buildAuditExport,
  exportChain,
  parseAuditExport,
} from "../../../core/audit/export.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { AuditStore, Signer } from "../../../core/audit/port.ts";
import type { ChainEntry, Checkpoint } from "../../../core/audit/types.ts";
import { verifyChain } from "../../../core/audit/verify.ts";
import { buildChain, CHAIN, record } from "./fixtures.ts";

let dir: string;
let signer: Signer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "audit-export-"));
  signer = await createLocalSigner(join(dir, "key.pem"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe("audit export", () => {
  it("survives a JSON round trip and verifies", async () => {
    const chain = await buildChain(signer, 130);
    const file = roundTrip(
      buildAuditExport({
        chain: CHAIN,
        keyId: signer.keyId,
        publicKeyPem: await signer.publicKeyPem(),
        ...chain,
      }),
    );
    const parsed = parseAuditExport(file);
    expect(parsed.format).toBe(AUDIT_EXPORT_FORMAT);
    expect(verifyChain({ ...parsed, publicKeyPem: parsed.publicKeyPem! })).toMatchObject({
      ok: true,
      entries: 130,
    });
  });

  it("keeps records exactly as given: an added field or a __proto__ key is hashed, not stripped", async () => {
    const chain = await buildChain(signer, 3);
    const text = JSON.stringify(buildAuditExport({ chain: CHAIN, keyId: signer.keyId, ...chain })).replace(
      '"eventId":"evt-org-acme-2"',
      '"eventId":"evt-org-acme-2","injected":1',
    );
    const parsed = parseAuditExport(JSON.parse(text));
    expect(verifyChain({ ...parsed, publicKeyPem: await signer.publicKeyPem() })).toMatchObject({
      ok: false,
      seq: 2,
      problem: "altered",
    });

    const proto = nextEntry(undefined, { ...record(1), data: JSON.parse('{"__proto__":{"x":1}}') });
    const withProto = parseAuditExport(
      roundTrip(buildAuditExport({ chain: CHAIN, keyId: "k", entries: [proto], checkpoints: [] })),
    );
    // The hash walk passes (the __proto__ key was hashed as it is); only the missing checkpoint is left.
    expect(verifyChain({ ...withProto, publicKeyPem: await signer.publicKeyPem() })).toMatchObject({
      ok: false,
      seq: 1,
      problem: "missing_signature",
    });
  });

  it("reads a checkpoint without its signature, for the verifier to report as missing", async () => {
    const chain = await buildChain(signer, 3, 1);
    const file = roundTrip(buildAuditExport({ chain: CHAIN, keyId: signer.keyId, ...chain })) as {
      checkpoints: Array<Record<string, unknown>>;
    };
    delete file.checkpoints[1]!.signature;
    expect(
      verifyChain({ ...parseAuditExport(file), publicKeyPem: await signer.publicKeyPem() }),
    ).toMatchObject({
      ok: false,
      seq: 2,
      problem: "missing_signature",
    });
  });

  it("rejects what is not an export, naming the path", () => {
    expect(() => parseAuditExport({ format: "other" })).toThrow(AuditExportError);
    const base = buildAuditExport({
      chain: CHAIN,
      keyId: "k",
      entries: [nextEntry(undefined, record(1))],
      checkpoints: [],
    });
    const bad = roundTrip(base) as { entries: Array<{ hash: string }> };
    bad.entries[0]!.hash = "XYZ";
    expect(() => parseAuditExport(bad)).toThrow(/entries\.0\.hash/);
    expect(() => parseAuditExport({ ...base, checkpoints: [{ seq: 0 }] })).toThrow(/checkpoints\.0/);
    expect(() => parseAuditExport(null)).toThrow(AuditExportError);
  });

  it("exportChain reads a chain from the store in pages", async () => {
    const chain = await buildChain(signer, 25, 10);
    const calls: Array<[number, number]> = [];
    const store = {
      head: async () => chain.entries.at(-1),
      entries: async (_c: string, from: number, to: number) => {
        calls.push([from, to]);
        return chain.entries.filter((e) => e.seq >= from && e.seq <= to);
      },
      checkpoints: async (): Promise<Checkpoint[]> => chain.checkpoints,
    } as unknown as AuditStore;
    const exported = await exportChain(store, CHAIN, signer, 10);
    expect(calls).toEqual([
      [1, 10],
      [11, 20],
      [21, 25],
    ]);
    expect(exported.entries.map((e: ChainEntry) => e.seq)).toEqual(chain.entries.map((e) => e.seq));
    expect(exported.checkpoints.map((c) => c.seq)).toEqual([10, 20]);
    expect(exported.keyId).toBe(signer.keyId);
    expect(verifyChain({ ...exported, publicKeyPem: exported.publicKeyPem!, maxUnsigned: 10 })).toMatchObject(
      {
        ok: true,
        unsignedTail: 5,
      },
    );
  });

  it("exportChain keeps a checkpoint past the stored head: the end was cut, and the verifier must see it", async () => {
    const chain = await buildChain(signer, 25, 10);
    const store = {
      // Entries 16-25 deleted from the store; the checkpoint at 20 still signs them.
      head: async () => chain.entries[14],
      entries: async (_c: string, from: number, to: number) =>
        chain.entries.filter((e) => e.seq >= from && e.seq <= to),
      checkpoints: async (): Promise<Checkpoint[]> => chain.checkpoints,
    } as unknown as AuditStore;
    const exported = await exportChain(store, CHAIN, signer, 10);
    expect(exported.checkpoints.map((c) => c.seq)).toEqual([10, 20]);
    const verdict = verifyChain({ ...exported, publicKeyPem: exported.publicKeyPem! });
    expect(verdict.ok).toBe(false);
    expect(JSON.stringify(verdict)).toContain("removed");
  });

  it("exportChain reads checkpoints before the head, so one signed while it reads is never past the export", async () => {
    const chain = await buildChain(signer, 25, 10);
    const order: string[] = [];
    const store = {
      head: async () => {
        order.push("head");
        return chain.entries.at(-1);
      },
      entries: async (_c: string, from: number, to: number) =>
        chain.entries.filter((e) => e.seq >= from && e.seq <= to),
      checkpoints: async (): Promise<Checkpoint[]> => {
        order.push("checkpoints");
        return chain.checkpoints;
      },
    } as unknown as AuditStore;
    await exportChain(store, CHAIN, signer, 10);
    expect(order).toEqual(["checkpoints", "head"]);
  });

  it("exportChain of an empty chain", async () => {
    const store = { head: async () => undefined, checkpoints: async () => [] } as unknown as AuditStore;
    expect(await exportChain(store, "none", signer)).toMatchObject({
      chain: "none",
      entries: [],
      checkpoints: [],
    });
  });
});
