import type { RegistrySnapshot } from "../registry/port.ts";
import { json } from "./http.ts";
import { isEnabled } from "./target.ts";
import type { GatewayResponse, RequestContext } from "./types.ts";

interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/**
 * GET /v1/models: the aliases whose targets can be served, plus the models each enabled provider
 * advertises as `provider/model`, narrowed to the key's allow-list when it has one.
 */
export function listModels(ctx: RequestContext, headers: Record<string, string>): GatewayResponse {
  const snapshot: RegistrySnapshot = ctx.snapshot!;
  const enabled = isEnabled(ctx.deps);
  const ids = new Map<string, string>();
  for (const alias of snapshot.models.values()) {
    const served = alias.targets.some((t) => {
      const p = snapshot.providers.get(t.provider);
      return p !== undefined && enabled(p);
    });
    if (served) ids.set(alias.alias, "gateway");
  }
  for (const provider of snapshot.providers.values()) {
    if (!enabled(provider)) continue;
    for (const model of provider.models) ids.set(`${provider.id}/${model}`, provider.id);
  }
  const allowed = ctx.key?.models;
  const data: ModelEntry[] = [...ids]
    .filter(([id]) => !allowed || allowed.includes(id))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, owner]) => ({ id, object: "model", created: 0, owned_by: owner }));
  return json(200, { object: "list", data }, headers);
}
