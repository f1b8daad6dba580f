import type { ProviderConfig } from "../config/types.ts";
import type { Endpoint } from "../providers/transport.ts";
import type { MapContext } from "../providers/types.ts";
import type { ResolvedTarget } from "../routing/resolve.ts";
import type { GatewayDeps, RequestContext } from "./types.ts";

/** Real providers need a credential; the in-process mock does not. */
export const isEnabled = (deps: GatewayDeps) => (provider: ProviderConfig) =>
  provider.kind === "mock" || !!deps.credential(provider);

export function endpointFor(deps: GatewayDeps, target: ResolvedTarget): Endpoint {
  return {
    providerId: target.provider.id,
    kind: target.provider.kind,
    baseUrl: deps.baseUrl(target.provider),
    timeouts: target.timeouts,
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
  headers["x-gateway-provider"] = target.provider.id;
  headers["x-gateway-model"] = target.model;
  ctx.outcome.provider = target.provider.id;
  ctx.outcome.providerModel = target.model;
}
