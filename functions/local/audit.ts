import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { checkpointQuietChains, signedByOtherKeys, unsignedTails } from "../../core/audit/checkpointer.ts";
import { createLocalSigner } from "../../core/audit/local-signer.ts";
import { createSqliteAuditQueue } from "../../core/audit/sqlite-queue.ts";
import { createSqliteAuditStore } from "../../core/audit/sqlite-store.ts";
import type { Log } from "../../core/log.ts";
import { createAuditWriterHandler } from "../audit-writer-handler.ts";

/** How often quiet chains get their time-based checkpoint (the writer signs busy ones as it goes). */
const QUIET_CHECKPOINT_MS = 60_000;

/**
 * Portable mode's audit trail, the counterpart of the audit stack: the ordered SQLite queue feeds the
 * same writer handler the Lambda runs, into SQLite chain storage, with checkpoints signed by a local
 * ECDSA P-256 key kept at `<dataDir>/audit-signing-key.pem` (created on first start, mode 0600).
 */
/** About 24 hours of redeliveries at the queue's 60 s cap. */
export const PORTABLE_AUDIT_RECEIVES = 1_440;

export async function createPortableAudit(db: DatabaseSync, dataDir: string, log: Log) {
  const store = createSqliteAuditStore(db);
  const keyFile = join(dataDir, "audit-signing-key.pem");
  const signer = await createLocalSigner(keyFile);
  // A record the queue gives up on is out of its chain for good (its dedup id stays taken), so portable
  // mode keeps trying for about a day, as its event bus does, where the backoff (1 s doubling to 60 s)
  // would give up after some 15 s: a transient failure (another process holding the database's write
  // lock, the signing key unreadable) must not cost a chain its records.
  const queue = createSqliteAuditQueue(db, { log, maxReceiveCount: PORTABLE_AUDIT_RECEIVES });
  const deps = { store, signer, now: Date.now, log };
  for (const tail of await unsignedTails(store))
    log.warn(
      "audit chain has entries no checkpoint covers since before this start (a crash, a start that failed, or writes made outside the gateway); verify it before the next checkpoint signs them",
      tail,
    );
  // Only when this start made the key: a key replaced on purpose (a rotation) warns no one at every start.
  for (const other of signer.created ? await signedByOtherKeys(store, signer.keyId) : [])
    log.warn(
      "audit signing key made anew, but the audit chain was last signed by another key (audit-signing-key.pem lost or removed); its earlier checkpoints verify only with that key's public part: find it and keep it",
      { ...other, currentKeyId: signer.keyId },
    );
  queue.start(createAuditWriterHandler(deps));
  const timer = setInterval(() => {
    checkpointQuietChains(deps).catch((err: unknown) =>
      log.error("quiet-chain checkpoint failed", { error: String(err) }),
    );
  }, QUIET_CHECKPOINT_MS);
  timer.unref();
  return {
    queue,
    store,
    signer,
    async close() {
      clearInterval(timer);
      await queue.stop();
      // A graceful stop leaves no unsigned tail: the next start would sign whatever it found there,
      // vouching for entries it did not write. Only a crash leaves a tail (README: audit limits).
      await checkpointQuietChains({ ...deps, checkpointMs: 0 }).catch((err: unknown) =>
        log.error("final audit checkpoint failed", { error: String(err) }),
      );
    },
    /**
     * A start that failed: stops without signing (it served nothing to vouch for), and removes the key
     * it made unless something was signed with it, so that the next start makes the key and warns
     * that the chains were signed by another (a lost key taken for a rotation warns no one).
     */
    async abandon() {
      clearInterval(timer);
      await queue.stop();
      if (!signer.created) return;
      for (const chain of await store.chains())
        if ((await store.lastCheckpoint(chain))?.keyId === signer.keyId) return;
      await rm(keyFile, { force: true });
    },
  };
}
