import { notFound } from "../api/errors.ts";
import type { ProviderConfig } from "../config/types.ts";
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

/** What a key may reach: providers switched on, in its org's allowed regions, and its allow-list. */
function reach(ctx: RequestContext) {
  const snapshot: RegistrySnapshot = ctx.snapshot!;
  const enabled = isEnabled(ctx.deps);
  // An org held to some regions is never routed elsewhere (resolve.ts), so it is not shown what only
  // another region serves.
  const regions = ctx.key ? snapshot.orgs.get(ctx.key.org)?.allowedRegions : undefined;
  const usable = (p: ProviderConfig | undefined, region?: string): p is ProviderConfig =>
    p !== undefined && enabled(p) && (!regions || regions.includes(region ?? p.region));
  const allowed = ctx.key?.models;
  const permitted = (id: string) => !allowed || allowed.includes(id);
  return { snapshot, usable, permitted };
}

/**
 * The models a key may call that can be listed: the aliases with a target that can serve it, plus the
 * models each enabled provider advertises as `provider/model`, within its org's allowed regions and
 * narrowed to the key's allow-list when it has one; sorted.
 */
function visibleModels(ctx: RequestContext): ModelEntry[] {
  const { snapshot, usable, permitted } = reach(ctx);
  const ids = new Map<string, string>();
  for (const alias of snapshot.models.values()) {
    if (alias.targets.some((t) => usable(snapshot.providers.get(t.provider), t.region)))
      ids.set(alias.alias, "gateway");
  }
  for (const provider of snapshot.providers.values()) {
    if (!usable(provider)) continue;
    for (const model of provider.models) ids.set(`${provider.id}/${model}`, provider.id);
  }
  return [...ids]
    .filter(([id]) => permitted(id))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, owner]) => ({ id, object: "model", created: 0, owned_by: owner }));
}

/**
 * A `provider/model` the router takes though no list names it: every model of a provider the key may
 * reach (resolve.ts routes every such name to its provider, whose own API then judges the model).
 */
function directModel(ctx: RequestContext, id: string): ModelEntry | undefined {
  const slash = id.indexOf("/");
  if (slash <= 0 || slash === id.length - 1) return undefined;
  const { snapshot, usable, permitted } = reach(ctx);
  const provider = snapshot.providers.get(id.slice(0, slash));
  if (!usable(provider) || !permitted(id)) return undefined;
  return { id, object: "model", created: 0, owned_by: provider.id };
}

/** GET /v1/models. */
export function listModels(ctx: RequestContext, headers: Record<string, string>): GatewayResponse {
  return json(200, { object: "list", data: visibleModels(ctx) }, headers);
}

/**
 * GET /v1/models/{model}: one entry of the list, or OpenAI's 404 `model_not_found` for a model the key
 * cannot see, worded the same whether it does not exist or is not the key's, as OpenAI words it.
 */
export function retrieveModel(
  ctx: RequestContext,
  model: string,
  headers: Record<string, string>,
): GatewayResponse {
  const entry = visibleModels(ctx).find((m) => m.id === model) ?? directModel(ctx, model);
  if (entry) return json(200, entry, headers);
  throw notFound(
    `The model '${model}' does not exist or you do not have access to it.`,
    "model_not_found",
    "model",
  );
}
