import type { RegistrySnapshot } from "./port.ts";

/**
 * Regions an org allows where no provider and no target is. Regions are an open list (`us`, `eu`, a
 * company's own names) compared exactly, so a misspelt or differently cased one (`EU` against `eu`) is
 * taken; an org whose every allowed region is such a one has every request refused as
 * `residency_violation`. Reported at start for the operator, not refused: a provider in that region may
 * be added later through the admin API.
 */
export function unservedRegions(snapshot: RegistrySnapshot): Array<{ org: string; region: string }> {
  const served = new Set<string>();
  for (const p of snapshot.providers.values()) served.add(p.region);
  for (const m of snapshot.models.values()) for (const t of m.targets) if (t.region) served.add(t.region);
  const out: Array<{ org: string; region: string }> = [];
  for (const org of snapshot.orgs.values())
    for (const region of org.allowedRegions ?? []) if (!served.has(region)) out.push({ org: org.id, region });
  return out;
}
