import { forbidden } from "../api/errors.ts";
import type { ProviderConfig } from "../config/types.ts";
import type { Endpoint } from "../providers/transport.ts";
import type { MapContext } from "../providers/types.ts";
import {
  type CallKind,
  firstByteMsFor,
  type Resolution,
  type ResolvedTarget,
  resolveModel,
} from "../routing/resolve.ts";
import { headerValue } from "./http.ts";
import type { GatewayDeps, RequestContext } from "./types.ts";

/** Real providers need a credential; the in-process mock does not. */
export const isEnabled = (deps: GatewayDeps) => (provider: ProviderConfig) =>
  provider.kind === "mock" || !!deps.credential(provider);

export function endpointFor(deps: GatewayDeps, target: ResolvedTarget, call: CallKind): Endpoint {
  return {
    providerId: target.provider.id,
    kind: target.provider.kind,
    baseUrl: deps.baseUrl(target.provider),
    timeouts: { ...target.timeouts, firstByteMs: firstByteMsFor(target.timeouts, call) },
    headers: target.provider.headers,
  };
}

export function mapContext(deps: GatewayDeps, target: ResolvedTarget): MapContext {
  return {
    providerId: target.provider.id,
    model: target.model,
    apiKey: deps.credential(target.provider) ?? "",
  };
}

/** Headers naming who served the request, set as soon as the target is chosen. */
export function markTarget(
  ctx: RequestContext,
  target: ResolvedTarget,
  headers: Record<string, string>,
): void {
  headers["x-gateway-provider"] = headerValue(target.provider.id);
  headers["x-gateway-model"] = headerValue(target.model);
  ctx.outcome.provider = target.provider.id;
  ctx.outcome.providerModel = target.model;
}

/**
 * Before validation: the model a body names, if it names one the schema could take, goes on the outcome,
 * so a request refused for another field is logged and counted under the model it asked for, not as
 * one that named none.
 */
export function noteRequestedModel(ctx: RequestContext, body: unknown): void {
  const model = (body as { model?: unknown } | null)?.model;
  if (typeof model === "string" && model.length > 0 && model.length <= 256) ctx.outcome.model = model;
}

/**
 * The targets for a requested model, in order, after the key's scope, provider availability and the
 * org's residency have been applied. A key scoped to some models may use only those, as written.
 */
export function resolveTargets(ctx: RequestContext, model: string): Resolution {
  ctx.outcome.model = model;
  const allowed = ctx.key?.models;
  if (allowed && !allowed.includes(model)) {
    throw forbidden(`This API key may not use model '${model}'.`, "model_not_allowed", "model");
  }
  const snapshot = ctx.snapshot!;
  return resolveModel({
    requested: model,
    snapshot,
    org: ctx.key ? snapshot.orgs.get(ctx.key.org) : undefined,
    isEnabled: isEnabled(ctx.deps),
    serverTimeouts: ctx.deps.timeouts,
  });
}

/**
 * Whether a fallback target is still in the org's allowed regions by the registry as it is now. A
 * request's plan is made as it arrives: a provider relabelled into another region while an earlier
 * target had the request must not take it (README: never tried, not even as a fallback). A target
 * with a region of its own keeps it; a provider deleted meanwhile is the one the request started with.
 */
export async function stillInRegion(ctx: RequestContext, target: ResolvedTarget): Promise<boolean> {
  const org = ctx.key ? ctx.snapshot?.orgs.get(ctx.key.org) : undefined;
  if (!org?.allowedRegions) return true;
  const now = await ctx.deps.registry.get();
  const allowed = now.orgs.get(org.id)?.allowedRegions ?? org.allowedRegions;
  const provider = now.providers.get(target.provider.id);
  const ownRegion = target.region !== target.provider.region;
  const region = ownRegion || !provider ? target.region : provider.region;
  return allowed.includes(region);
}
