import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportPage } from "../core/admin/audit-page.ts";
import { MAX_PAGE_SIZE } from "../core/admin/page.ts";
import { mergeExportPages } from "../core/audit/export.ts";
import { readExportPages } from "../core/audit/export-pages.ts";
import { createLocalSigner } from "../core/audit/local-signer.ts";
import { auditRecord } from "../core/audit/records.ts";
import { createSqliteAuditStore } from "../core/audit/sqlite-store.ts";
import { verifyChain } from "../core/audit/verify.ts";
import { processAuditBatch } from "../core/audit/writer.ts";
import { openDatabase } from "../core/storage/sqlite.ts";

/**
 * Audit writer throughput on one chain (the portable writer: SQLite chain storage, checkpoints signed
 * every 100 entries with the local ECDSA P-256 key, batches of 10 as SQS FIFO delivers them) and offline
 * verification speed of the exported chain (hashes, links and every checkpoint signature).
 */
export interface AuditBench {
  entries: number;
  writerEntriesPerSec: number;
  checkpoints: number;
  verifyEntriesPerSec: number;
}

export async function benchAudit(entries: number): Promise<AuditBench> {
  const dir = mkdtempSync(join(tmpdir(), "gw-audit-bench-"));
  try {
    const db = openDatabase(join(dir, "audit.sqlite"));
    const deps = {
      store: createSqliteAuditStore(db),
      signer: await createLocalSigner(join(dir, "key.pem")),
      now: Date.now,
      checkpointEvery: 100,
    };
    // A realistic record: a sensitive org's request, a few hundred bytes of redacted text.
    const messages = Array.from({ length: entries }, (_, i) => {
      const record = auditRecord(`bench-${i}`, "org-bench", "request", Date.now(), "key-1", {
        endpoint: "/v1/chat/completions",
        model: "smart",
        request: { messages: [{ role: "user", content: `question ${i}: what is the capital of France?` }] },
        response: { content: "Paris is the capital of France.", toolCalls: [] },
        status: 200,
      });
      return {
        messageId: `m-${i}`,
        body: JSON.stringify(record),
        attributes: { MessageGroupId: "org-bench", MessageDeduplicationId: record.eventId },
      };
    });
    const started = performance.now();
    for (let i = 0; i < messages.length; i += 10) {
      const res = await processAuditBatch(messages.slice(i, i + 10), deps);
      if (res.batchItemFailures.length > 0) throw new Error("audit bench: the writer refused a record");
    }
    const writeSec = (performance.now() - started) / 1000;
    // As `npm run audit:export` reads it: the admin API's pages, merged.
    const pages = await readExportPages(
      (fromSeq) => exportPage(deps.store, "org-bench", deps.signer, { fromSeq, limit: MAX_PAGE_SIZE }),
      MAX_PAGE_SIZE,
    );
    const exported = mergeExportPages(pages);
    const verifyStart = performance.now();
    const result = verifyChain({
      entries: exported.entries,
      checkpoints: exported.checkpoints,
      publicKeyPem: await deps.signer.publicKeyPem(),
    });
    const verifySec = (performance.now() - verifyStart) / 1000;
    if (!result.ok)
      throw new Error(`audit bench: the chain did not verify (${result.problem} at ${result.seq})`);
    db.close();
    return {
      entries,
      writerEntriesPerSec: entries / writeSec,
      checkpoints: exported.checkpoints.length,
      verifyEntriesPerSec: entries / verifySec,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
