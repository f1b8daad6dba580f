import type { ApiKeyRecord } from "../keys/port.ts";

/** What the admin API shows of a key: never its hash, never its secret. */
export function publicKey(r: ApiKeyRecord) {
  return {
    id: r.id,
    org: r.org,
    role: r.role,
    ...(r.name !== undefined ? { name: r.name } : {}),
    ...(r.models !== undefined ? { models: r.models } : {}),
    ...(r.budgets !== undefined ? { budgets: r.budgets } : {}),
    ...(r.rateLimits !== undefined ? { rateLimits: r.rateLimits } : {}),
    createdAt: r.createdAt,
  };
}
