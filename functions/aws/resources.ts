import { Resource } from "sst/resource";
import { providerEnv } from "../shared/provider-env.ts";

/**
 * Typed access to what SST links into a function (`SST_RESOURCE_<Name>` environment variables).
 * `Resource` throws on a name that is not linked; a missing link is a deployment error, so say which.
 */
interface LinkedResource {
  name?: string;
  value?: string;
  url?: string;
  arn?: string;
}

function linked(name: string): LinkedResource | undefined {
  try {
    return (Resource as unknown as Record<string, LinkedResource | undefined>)[name];
  } catch {
    return undefined;
  }
}

/** A linked resource's `name` (a table, a bus): a missing link is a deployment error. */
export function linkedName(link: string): string {
  const name = linked(link)?.name;
  if (!name) throw new Error(`Resource '${link}' is not linked to this function (check stacks/).`);
  return name;
}

export const linkedTableName = linkedName;

/** A linked resource's `arn` (an `sst.Linkable` exposing one, e.g. a KMS key): missing is a deployment error. */
export function linkedArn(link: string): string {
  const arn = linked(link)?.arn;
  if (!arn)
    throw new Error(`Resource '${link}' is not linked to this function or has no arn (check stacks/).`);
  return arn;
}

/** A linked resource's `url` (a queue): missing is a deployment error. */
export function linkedUrl(link: string): string {
  const url = linked(link)?.url;
  if (!url)
    throw new Error(`Resource '${link}' is not linked to this function or has no url (check stacks/).`);
  return url;
}

/**
 * What an operator sets a provider's secret to when the provider is not used: SST cannot deploy a
 * linked secret without a value, and any other placeholder would enable the provider and fail each
 * call with 502 `upstream_auth_failed`.
 */
export const UNUSED_SECRET = "unused";

/** A secret's value as a key: none when it is empty or `unused`. */
export const usableSecret = (value: string | undefined): string | undefined =>
  value && value !== UNUSED_SECRET ? value : undefined;

/** A linked `sst.Secret`'s value, or undefined when the secret is not linked, not set or `unused`. */
export const linkedSecret = (link: string): string | undefined => usableSecret(linked(link)?.value);

/**
 * Provider keys as the registry names them (`apiKeyEnv`): the linked SST secrets under their usual
 * environment names, over plain environment variables; any other name only when the operator lists it
 * in `GATEWAY_PROVIDER_ENV` (providerEnv). Never the Lambda's own environment whole: it holds the
 * role's credentials.
 */
export function providerSecrets(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return providerEnv(
    {
      ...env,
      OPENAI_API_KEY: linkedSecret("OpenaiApiKey") ?? env.OPENAI_API_KEY,
      ANTHROPIC_API_KEY: linkedSecret("AnthropicApiKey") ?? env.ANTHROPIC_API_KEY,
      GEMINI_API_KEY: linkedSecret("GeminiApiKey") ?? env.GEMINI_API_KEY,
    },
    [],
  );
}
