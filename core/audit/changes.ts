import { publicKey } from "../admin/public-key.ts";
import type { AdminChange } from "../admin/types.ts";
import type { ApiKeyRecord } from "../keys/port.ts";
import type { RegistrySnapshot } from "../registry/port.ts";
import { auditRecord, SYSTEM_CHAIN } from "./records.ts";
import type { AuditRecord } from "./types.ts";

/** One admin API write, as the system chain records it (the change already holds no secrets). */
export function adminChangeRecord(change: AdminChange, now: number): AuditRecord {
  return auditRecord(
    `${change.requestId}:${change.kind}:${change.id}`,
    SYSTEM_CHAIN,
    change.kind === "key" ? "key.change" : "registry.change",
    now,
    change.actorKeyId,
    {
      source: "admin-api",
      action: change.action,
      target: { kind: change.kind, id: change.id },
      before: change.before ?? null,
      after: change.after ?? null,
    },
  );
}

type Kind = "provider" | "model" | "org";
const SECTIONS: Array<[Kind, keyof Pick<RegistrySnapshot, "providers" | "models" | "orgs">]> = [
  ["provider", "providers"],
  ["model", "models"],
  ["org", "orgs"],
];

/**
 * The registry entries a config file application changed, one record each, with before and after.
 * `runId` names the application (one start, one seed run) so its records are unique and replay-safe.
 */
export function configChangeRecords(
  before: RegistrySnapshot,
  after: RegistrySnapshot,
  runId: string,
  now: number,
): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const [kind, section] of SECTIONS) {
    const ids = new Set([...before[section].keys(), ...after[section].keys()]);
    for (const id of [...ids].sort()) {
      const was = before[section].get(id);
      const is = after[section].get(id);
      if (JSON.stringify(was) === JSON.stringify(is)) continue;
      const action = was === undefined ? "create" : is === undefined ? "delete" : "replace";
      out.push(
        auditRecord(`${runId}:${kind}:${id}`, SYSTEM_CHAIN, "registry.change", now, "config", {
          source: "config-file",
          action,
          target: { kind, id },
          before: was ?? null,
          after: is ?? null,
        }),
      );
    }
  }
  return out;
}

/** What a key record says, for comparing two of them: not when it was written, and never its hash. */
const keyFacts = (r: ApiKeyRecord) => {
  const { createdAt: _, ...facts } = publicKey(r);
  return facts;
};

/**
 * The keys a config application or a bootstrap created, changed or removed (config-file keys, operator
 * keys from the environment, generated first-start keys), one record each. The hash never appears; a new secret
 * for the same key shows as `secretReplaced: true`. Re-applying an unchanged key writes nothing.
 */
export function keyChangeRecords(
  before: ApiKeyRecord[],
  after: ApiKeyRecord[],
  configured: ReadonlySet<string>,
  runId: string,
  now: number,
): AuditRecord[] {
  const was = new Map(before.map((k) => [k.id, k]));
  const kept = new Set(after.map((k) => k.id));
  const out: AuditRecord[] = [];
  for (const k of before) {
    if (kept.has(k.id)) continue;
    // A key the config file no longer declares, removed with it.
    out.push(
      auditRecord(`${runId}:key:${k.id}`, SYSTEM_CHAIN, "key.change", now, "config", {
        source: "config-file",
        action: "delete",
        target: { kind: "key", id: k.id },
        before: keyFacts(k),
        after: null,
      }),
    );
  }
  for (const k of after) {
    const old = was.get(k.id);
    const secretReplaced = old !== undefined && old.sha256 !== k.sha256;
    if (old && !secretReplaced && JSON.stringify(keyFacts(old)) === JSON.stringify(keyFacts(k))) continue;
    out.push(
      auditRecord(`${runId}:key:${k.id}`, SYSTEM_CHAIN, "key.change", now, "config", {
        source: configured.has(k.id) ? "config-file" : "bootstrap",
        action: old ? "replace" : "create",
        target: { kind: "key", id: k.id },
        before: old ? keyFacts(old) : null,
        after: { ...keyFacts(k), ...(secretReplaced ? { secretReplaced: true } : {}) },
      }),
    );
  }
  return out;
}
