/**
 * Where a stage deploys and what it owns. Pure: no SST globals, so sst.config.ts can import it at the top
 * level (app() runs before the platform globals exist) and tests can call it directly.
 *
 * One stage per region, and the stage NAME decides the region (not an env var): every CLI command that
 * takes `--stage` (deploy, secret set, remove) then targets the right region without extra flags.
 *   - `<env>`    -> us-east-1, PRIMARY: creates the global tables (with their eu-west-1 replicas) and the
 *                   multi-Region primary signing key.
 *   - `<env>-eu` -> eu-west-1, SECONDARY: references the replicated tables by name and replicates the key.
 * Example: `production` and `production-eu`; deploy the primary first, remove it last.
 */

export const PRIMARY_REGION = "us-east-1";
export const SECONDARY_REGION = "eu-west-1";
export const SECONDARY_STAGE_SUFFIX = "-eu";
/** Stages whose stateful resources are retained on `sst remove` and deletion-protected. */
export const PROTECTED_ENVS: readonly string[] = ["production"];

export type Region = typeof PRIMARY_REGION | typeof SECONDARY_REGION;
export type Role = "primary" | "secondary";

export interface Deployment {
  /** The SST stage, e.g. `production-eu`. */
  readonly stage: string;
  /** The stage without its region suffix; shared by the two regional stages of one environment. */
  readonly env: string;
  readonly region: Region;
  readonly role: Role;
  /** The other region: where the primary's table replicas live. */
  readonly peerRegion: Region;
  readonly protected: boolean;
}

export function deploymentFor(stage: string): Deployment {
  const secondary = stage.endsWith(SECONDARY_STAGE_SUFFIX);
  const env = secondary ? stage.slice(0, -SECONDARY_STAGE_SUFFIX.length) : stage;
  if (env === "")
    throw new Error(`Stage "${stage}" has no environment name before "${SECONDARY_STAGE_SUFFIX}"`);
  return {
    stage,
    env,
    region: secondary ? SECONDARY_REGION : PRIMARY_REGION,
    role: secondary ? "secondary" : "primary",
    peerRegion: secondary ? PRIMARY_REGION : SECONDARY_REGION,
    protected: PROTECTED_ENVS.includes(env),
  };
}

/**
 * Physical name of a global table. Deterministic (no random suffix) because the secondary stage must find
 * the replica the primary created. DynamoDB table names allow 3-255 characters of [a-zA-Z0-9_.-].
 */
export function globalTableName(app: string, env: string, logical: string): string {
  return `${app}-${env}-${logical}`;
}

/**
 * Alias of the audit signing key. Aliases are regional, so each region creates the same alias for its own
 * copy (primary or replica); the secondary looks the primary key up through the us-east-1 alias.
 */
export function signingKeyAlias(app: string, env: string): string {
  return `alias/${app}-${env}-audit-signing`;
}
