import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditStore } from "../../core/audit/port.ts";
import { createSqliteAuditQueue } from "../../core/audit/sqlite-queue.ts";
import { createSqliteAuditStore } from "../../core/audit/sqlite-store.ts";
import type { AuditRecord } from "../../core/audit/types.ts";
import { silentLog } from "../../core/log.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { createAuditWriterHandler } from "../../functions/audit-writer-handler.ts";
import { createPortableAudit } from "../../functions/local/audit.ts";
import { auditRecs, chainEventIds, testSigner } from "../contract/audit-fixtures.ts";

/** Portable mode: the SQLite audit queue's consumer runs the very handler the Lambda runs. */
const ids = (records: AuditRecord[]) => records.map((r) => r.eventId);

describe("the audit writer on the SQLite queue", () => {
  it("writes interleaved chains in order, and redelivers the rest of a batch after a crash", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteAuditStore(db);
    let appends = 0;
    const crashing: AuditStore = {
      ...store,
      async append(e) {
        if (++appends === 6) throw new Error("disk I/O error");
        return store.append(e);
      },
    };
    const queue = createSqliteAuditQueue(db, { retryBaseMs: 10, pollMs: 20 });
    const handler = createAuditWriterHandler({
      store: crashing,
      signer: await testSigner(),
      now: Date.now,
      log: silentLog,
    });
    const [a, s] = [auditRecs("org-a", 25), auditRecs("system", 12)];
    await queue.enqueue(a.flatMap((r, i) => (s[i] ? [r, s[i]] : [r])));
    await queue.enqueue(a.slice(0, 5)); // a producer retry: deduplicated
    queue.start(handler);
    expect(await queue.drain(10_000)).toBe(true);
    await queue.stop();
    expect(await chainEventIds(store, "org-a")).toEqual(ids(a));
    expect(await chainEventIds(store, "system")).toEqual(ids(s));
    expect((await store.checkpoints("org-a"))[0]?.seq).toBe(1);
    expect(queue.deadLetters()).toEqual([]);
  });
});

describe("portable mode's audit trail at a graceful stop", () => {
  it("signs every chain's unsigned tail, so the next start finds none to vouch for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-stop-"));
    try {
      const db = openDatabase(":memory:");
      const audit = await createPortableAudit(db, dir, silentLog);
      // The first entry of a chain is signed at once; the four after it wait for 100 entries or 60 s.
      await audit.queue.enqueue(auditRecs("org-a", 5));
      expect(await audit.queue.drain(10_000)).toBe(true);
      expect((await audit.store.lastCheckpoint("org-a"))?.seq).toBe(1);
      await audit.close();
      expect((await audit.store.lastCheckpoint("org-a"))?.seq).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("portable mode's audit trail at start", () => {
  it("warns of a tail no checkpoint covers (a crash, or writes from outside), and of none after a graceful stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-start-"));
    try {
      const db = openDatabase(":memory:");
      const warnings: Array<Record<string, unknown> | undefined> = [];
      const log = {
        ...silentLog,
        warn: (_msg: string, fields?: Record<string, unknown>) => void warnings.push(fields),
      };
      const crashed = await createPortableAudit(db, dir, silentLog);
      await crashed.queue.enqueue(auditRecs("org-a", 5));
      expect(await crashed.queue.drain(10_000)).toBe(true);
      await crashed.queue.stop(); // a crash: no graceful stop, so the tail after the first entry stays unsigned

      const next = await createPortableAudit(db, dir, log);
      expect(warnings).toEqual([{ chain: "org-a", entries: 4 }]);
      await next.close();

      warnings.length = 0;
      const after = await createPortableAudit(db, dir, log);
      expect(warnings).toEqual([]);
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("warns when the chains were last signed by another key than the data directory's (a key lost and made anew)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-key-"));
    try {
      const db = openDatabase(":memory:");
      const warnings: Array<{ message: string } & Record<string, unknown>> = [];
      const log = {
        ...silentLog,
        warn: (message: string, fields?: Record<string, unknown>) =>
          void warnings.push({ message, ...fields }),
      };
      const first = await createPortableAudit(db, dir, silentLog);
      await first.queue.enqueue(auditRecs("org-a", 1));
      expect(await first.queue.drain(10_000)).toBe(true);
      await first.close();
      const oldKey = first.signer.keyId;
      rmSync(join(dir, "audit-signing-key.pem"));

      const next = await createPortableAudit(db, dir, log);
      expect(warnings).toEqual([
        expect.objectContaining({ chain: "org-a", keyId: oldKey, currentKeyId: next.signer.keyId }),
      ]);
      expect(warnings[0]?.message).toContain("last signed by another key");
      await next.close();
      // The next start finds the key it made last time: no warning again.
      warnings.length = 0;
      await (await createPortableAudit(db, dir, log)).close();
      expect(warnings).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("removes, when a start fails, the key it made and signed nothing with: the next start still warns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-key-"));
    try {
      const db = openDatabase(":memory:");
      const warnings: string[] = [];
      const log = { ...silentLog, warn: (message: string) => void warnings.push(message) };
      const first = await createPortableAudit(db, dir, silentLog);
      await first.queue.enqueue(auditRecs("org-a", 1));
      expect(await first.queue.drain(10_000)).toBe(true);
      await first.close();
      rmSync(join(dir, "audit-signing-key.pem"));

      const failed = await createPortableAudit(db, dir, silentLog);
      // What the failed start wrote (its config applied) stays unsigned, for the next start to find.
      await failed.queue.enqueue(auditRecs("org-a", 2).slice(1));
      expect(await failed.queue.drain(10_000)).toBe(true);
      await failed.abandon();
      expect(existsSync(join(dir, "audit-signing-key.pem"))).toBe(false);

      const next = await createPortableAudit(db, dir, log);
      expect(warnings.some((w) => w.includes("last signed by another key"))).toBe(true);
      expect(warnings.some((w) => w.includes("entries no checkpoint covers"))).toBe(true);
      await next.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps, when a start fails, a key it made and signed with", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-key-"));
    try {
      const db = openDatabase(":memory:");
      const made = await createPortableAudit(db, dir, silentLog);
      // A hundred entries: the writer signs a checkpoint as it goes.
      await made.queue.enqueue(auditRecs("org-a", 100));
      expect(await made.queue.drain(10_000)).toBe(true);
      await made.abandon();
      expect(existsSync(join(dir, "audit-signing-key.pem"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
