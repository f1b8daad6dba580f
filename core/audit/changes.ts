import type { AdminChange } from "../admin/types.ts";
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
