import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import type { SqsFifoHandler } from "../../core/audit/fifo-message.ts";
import { createSqliteAuditQueue } from "../../core/audit/sqlite-queue.ts";
import type { AuditRecord } from "../../core/audit/types.ts";
import { openDatabase } from "../../core/storage/sqlite.ts";
import { auditRecs } from "./audit-fixtures.ts";

/** The portable queue beyond the shared contract: restarts, whole-batch failures, dead letters. */
const dir = mkdtempSync(join(tmpdir(), "audit-sqlite-queue-"));
const open: DatabaseSync[] = [];
afterAll(() => {
  for (const db of open) if (db.isOpen) db.close();
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
const freshPath = () => join(dir, `q-${++files}.sqlite`);
const connect = (path: string) => {
  const db = openDatabase(path);
  open.push(db);
  return db;
};
const ids = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as AuditRecord).eventId);

function acking(seen: string[]): SqsFifoHandler {
  return async (event) => {
    seen.push(...event.Records.map((r) => r.body));
    return { batchItemFailures: [] };
  };
}

describe("SQLite audit queue", () => {
  it("keeps queued and unacknowledged messages across a restart", async () => {
    const path = freshPath();
    const first = createSqliteAuditQueue(connect(path), { pollMs: 20 });
    await first.enqueue(auditRecs("acme", 5));
    // A consumer that dies mid-batch: its handler never returns, nothing is acknowledged.
    first.start(() => new Promise(() => {}));
    await new Promise((r) => setTimeout(r, 50));

    const seen: string[] = [];
    const second = createSqliteAuditQueue(connect(path), { pollMs: 20 });
    await second.enqueue(auditRecs("acme", 2)); // already queued: deduplicated
    second.start(acking(seen));
    expect(await second.drain(5_000)).toBe(true);
    await second.stop();
    expect(ids(seen)).toEqual(auditRecs("acme", 5).map((r) => r.eventId));
  });

  it("redelivers a whole batch when the handler throws, then acknowledges it", async () => {
    const queue = createSqliteAuditQueue(connect(freshPath()), { retryBaseMs: 20, pollMs: 20 });
    await queue.enqueue(auditRecs("acme", 3));
    const batches: string[][] = [];
    let calls = 0;
    queue.start(async (event) => {
      batches.push(ids(event.Records.map((r) => r.body)));
      if (++calls === 1) throw new Error("crash");
      return { batchItemFailures: [] };
    });
    expect(await queue.drain(5_000)).toBe(true);
    await queue.stop();
    expect(batches).toEqual([
      ["acme-e1", "acme-e2", "acme-e3"],
      ["acme-e1", "acme-e2", "acme-e3"],
    ]);
  });

  it("dead-letters a message after maxReceiveCount failures and goes on with its chain", async () => {
    const queue = createSqliteAuditQueue(connect(freshPath()), {
      retryBaseMs: 10,
      pollMs: 20,
      maxReceiveCount: 3,
    });
    await queue.enqueue(auditRecs("acme", 3));
    const acked: string[] = [];
    queue.start(async (event) => {
      for (const [i, r] of event.Records.entries()) {
        if ((JSON.parse(r.body) as AuditRecord).eventId === "acme-e2")
          return { batchItemFailures: event.Records.slice(i).map((x) => ({ itemIdentifier: x.messageId })) };
        acked.push(r.body);
      }
      return { batchItemFailures: [] };
    });
    expect(await queue.drain(5_000)).toBe(true);
    await queue.stop();
    expect(ids(acked)).toEqual(["acme-e1", "acme-e3"]);
    const dead = queue.deadLetters();
    expect(dead.map((d) => [ids([d.body])[0], d.groupId, d.failures])).toEqual([["acme-e2", "acme", 3]]);
  });
});
