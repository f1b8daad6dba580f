import { forbidden, notFound } from "../api/errors.ts";
import type { OrgConfig, ProviderConfig, RetryConfig, Timeouts } from "../config/types.ts";
import type { ResolvedTimeouts } from "../providers/transport.ts";
import type { RegistrySnapshot } from "../registry/port.ts";

export interface ResolvedTarget {
  provider: ProviderConfig;
  model: string;
  region: string;
  weight: number | undefined;
  timeouts: TargetTimeouts;
}

/** A target's timeouts: `firstByteMs` undefined where no layer set it (firstByteMsFor). */
export type TargetTimeouts = Omit<ResolvedTimeouts, "firstByteMs"> & { firstByteMs: number | undefined };

export interface Resolution {
  /** What the caller asked for: an alias or `provider/model`. */
  requested: string;
  targets: ResolvedTarget[];
  strategy: "fallback" | "loadbalance";
  retry: RetryConfig | undefined;
}

export const DEFAULT_TIMEOUTS: TargetTimeouts = {
  connectMs: 5_000,
  firstByteMs: undefined,
  idleMs: 60_000,
  // API Gateway's raised streaming integration timeout is 900 000 ms; stay just inside it.
  totalMs: 890_000,
};

/** What a call waits for first: a stream's first event, a chat answer whole, an embeddings answer. */
export type CallKind = "stream" | "chat" | "embeddings";

/**
 * `firstByteMs` where no layer sets it. A provider sends a non-stream chat answer's headers only once
 * the whole answer is made, which a reasoning model may think over for minutes: it waits just inside
 * the 10 minutes OpenAI's SDK waits by default, so the caller hears the gateway's 504 rather than its
 * own timeout. A stream's first event and an embeddings answer come in seconds from a healthy provider.
 */
export const DEFAULT_FIRST_BYTE_MS: Record<CallKind, number> = {
  stream: 60_000,
  chat: 590_000,
  embeddings: 60_000,
};

/** `firstByteMs` as a call of the kind applies it: set, or its kind's default; never past `totalMs`. */
export const firstByteMsFor = (t: TargetTimeouts, call: CallKind): number =>
  t.firstByteMs ?? Math.min(DEFAULT_FIRST_BYTE_MS[call], t.totalMs);

const mergeTimeouts = (...layers: Array<Timeouts | undefined>): TargetTimeouts =>
  Object.assign({}, DEFAULT_TIMEOUTS, ...layers.map((l) => l ?? {}));

export interface ResolveInput {
  requested: string;
  snapshot: RegistrySnapshot;
  org: OrgConfig | undefined;
  /** Whether the provider has what it needs to be called (a credential, for real providers). */
  isEnabled: (provider: ProviderConfig) => boolean;
  serverTimeouts?: Timeouts | undefined;
}

/**
 * Resolves a model name to ordered targets: a registry alias first, else `provider/model`. Targets
 * outside the org's allowed regions are dropped, never silently re-routed; if that leaves none, 403.
 */
export function resolveModel(input: ResolveInput): Resolution {
  const { requested, snapshot } = input;
  const unknown = (why = "") =>
    notFound(
      `The model '${requested}' does not exist or you do not have access to it.${why}`,
      "model_not_found",
      "model",
    );

  let candidates: Array<{
    provider: ProviderConfig | undefined;
    model: string;
    region?: string | undefined;
    weight?: number | undefined;
    timeouts?: Timeouts | undefined;
  }>;
  const alias = snapshot.models.get(requested);
  if (alias) {
    candidates = alias.targets.map((t) => ({
      provider: snapshot.providers.get(t.provider),
      model: t.model,
      region: t.region,
      weight: t.weight,
      timeouts: t.timeouts,
    }));
  } else {
    const slash = requested.indexOf("/");
    if (slash <= 0 || slash === requested.length - 1) throw unknown();
    const provider = snapshot.providers.get(requested.slice(0, slash));
    if (!provider) throw unknown();
    candidates = [{ provider, model: requested.slice(slash + 1) }];
  }

  const enabled = candidates.filter(
    (c): c is typeof c & { provider: ProviderConfig } => !!c.provider && input.isEnabled(c.provider),
  );
  if (enabled.length === 0) {
    const first = candidates[0]?.provider;
    throw unknown(first?.apiKeyEnv ? ` Provider '${first.id}' is not enabled on this gateway.` : "");
  }

  const targets = enabled.map((c) => ({
    provider: c.provider,
    model: c.model,
    region: c.region ?? c.provider.region,
    weight: c.weight,
    timeouts: mergeTimeouts(input.serverTimeouts, c.provider.timeouts, c.timeouts),
  }));
  const allowed = input.org?.allowedRegions;
  const inRegion = allowed ? targets.filter((t) => allowed.includes(t.region)) : targets;
  if (inRegion.length === 0) {
    throw forbidden(
      `No target for model '${requested}' is in this organization's allowed regions (${allowed?.join(", ")}).`,
      "residency_violation",
    );
  }
  return { requested, targets: inRegion, strategy: alias?.strategy ?? "fallback", retry: alias?.retry };
}
