import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextEntry } from "../../../core/audit/chain.ts";
import {
  AUDIT_EXPORT_FORMAT,
  AuditExportError,
  buildAuditExport,
  parseAuditExport,
} from "../../../core/audit/export.ts";
import { createLocalSigner } from "../../../core/audit/local-signer.ts";
import type { Signer } from "../../../core/audit/port.ts";
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
});
