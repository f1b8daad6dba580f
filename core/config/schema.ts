import { z } from "zod";
import { limitNanos, usdOf } from "../budgets/money.ts";
import { httpUrl } from "./http-url.ts";
import { priceSchema } from "./price-schema.ts";
import { providerHeaders } from "./provider-headers.ts";
import { breakerSchema, positiveInt, retrySchema, timeoutsSchema } from "./routing-schema.ts";

export { breakerSchema, MAX_TIMER_MS, retrySchema, timeoutsSchema } from "./routing-schema.ts";

/**
 * The one config schema: the declarative file (`GATEWAY_CONFIG`), the JSON Schema published for editors
 * (`npm run schema`) and the registry rows are all this shape. Secrets never appear in it: providers name
 * the environment variable that holds their key.
 */

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    "must be 1–63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
  );
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name");
/**
 * The variables a provider may read from: named for what they hold, and none the platform or the
 * gateway sets for itself (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `SST_KEY`, `GATEWAY_ADMIN_KEY`).
 * A provider made through the admin API would otherwise send any variable's value (the Lambda role's
 * credentials) to a URL of the admin's choosing.
 */
const NOT_OWN = "(?!AWS_|GATEWAY_|SST_|LAMBDA_)";
const keyEnvName = envName.regex(
  new RegExp(`^${NOT_OWN}[A-Z][A-Z0-9_]*_(?:KEY|TOKEN|SECRET)$`),
  "must name a provider key's variable: ending in _KEY, _TOKEN or _SECRET, and not one the platform or the gateway sets for itself (AWS_…, GATEWAY_…, SST_…, LAMBDA_…)",
);
const urlEnvName = envName.regex(
  new RegExp(`^${NOT_OWN}[A-Z][A-Z0-9_]*_URL$`),
  "must name a base URL's variable: ending in _URL, and not one the platform or the gateway sets for itself (AWS_…, GATEWAY_…, SST_…, LAMBDA_…)",
);
/** A budget's least and largest limit in USD (see limitUsd). */
export const MIN_LIMIT_USD = 1e-9;
export const MAX_LIMIT_USD = 9_000_000;

/**
 * A budget as a store holds it, read back as it was written: a key's record is compared with what is
 * stored when it is edited (key stores' `update`), so reading must not change it. Limits written before
 * they were rounded on their way in may have digits past the nano-dollar, which the enforcement and the
 * alerts ignore (money.ts limitNanos).
 */
export const storedBudgetSchema = z
  .object({
    period: z.enum(["day", "month"]).describe("UTC calendar day or month"),
    // Counters count in nano-dollars (money.ts): a limit below one is $0, and a double holds every
    // nano-dollar count exactly only up to 2^53 ($9 007 199).
    limitUsd: z
      .number()
      .min(MIN_LIMIT_USD, `must be at least $${MIN_LIMIT_USD.toFixed(9)}, the nano-dollar budgets count in`)
      .max(MAX_LIMIT_USD, `must be at most $${MAX_LIMIT_USD}, which budget counters count exactly`)
      .describe("Hard limit: requests that could exceed it are refused"),
    since: z.iso
      .datetime()
      .optional()
      .describe(
        "Set by the gateway when the budget is added (kept while it stays); a UTC time given is ignored",
      ),
  })
  .strict();

/**
 * A budget as the config file and the admin API take it: its limit kept as it is enforced, rounded down
 * to the nano-dollar, so $0.0500000009 and $0.05 are one limit, shown, stored and alerted as one.
 */
export const budgetSchema = storedBudgetSchema.extend({
  limitUsd: storedBudgetSchema.shape.limitUsd.overwrite((usd) => usdOf(limitNanos(usd))),
});

export const budgetsSchema = z
  .array(budgetSchema)
  .refine((b) => new Set(b.map((x) => x.period)).size === b.length, "at most one budget per period")
  .describe("At most one per period (day, month)");

export const rateLimitSchema = z
  .object({
    requestsPerMinute: positiveInt(),
    tokensPerMinute: positiveInt().describe("Prompt estimate + max output tokens, corrected to actual usage"),
  })
  .strict();

export const providerSchema = z
  .object({
    id,
    kind: z.enum(["openai", "anthropic", "gemini", "mock"]),
    baseUrl: httpUrl().optional().describe("Defaults per kind; OpenAI's includes /v1"),
    baseUrlEnv: urlEnvName
      .optional()
      .describe("Environment variable that overrides baseUrl when set (…_URL)"),
    apiKeyEnv: keyEnvName
      .optional()
      .describe(
        "Environment variable holding the provider API key (…_KEY, …_TOKEN or …_SECRET; not AWS_, GATEWAY_, SST_ or LAMBDA_…)",
      ),
    region: z.string().min(1).default("global").describe("Where the provider processes data, e.g. us, eu"),
    models: z.array(z.string().min(1)).default([]).describe("Provider models advertised by GET /v1/models"),
    timeouts: timeoutsSchema.optional(),
    breaker: breakerSchema.optional().describe("Circuit breaker settings for this provider's targets"),
    headers: providerHeaders
      .optional()
      .describe(
        "Extra headers sent with every call to this provider, e.g. anthropic-beta. Not secret storage: credentials go in apiKeyEnv",
      ),
    prices: z
      .record(z.string().min(1), priceSchema)
      .optional()
      .describe("Per-model price overrides (USD per 1M tokens), keyed by provider model"),
  })
  .strict();

export const targetSchema = z
  .object({
    provider: id,
    model: z.string().min(1),
    // Bounded so that a model's weights add up to a finite number (1e308 twice is Infinity, and every
    // draw then lands on the last target).
    weight: z.number().positive().max(1_000_000).optional(),
    region: z.string().min(1).optional().describe("Overrides the provider's region for this target"),
    timeouts: timeoutsSchema.optional(),
  })
  .strict();

export const modelSchema = z
  .object({
    alias: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
        "must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-', starting with a letter or digit (no '/': that is for provider/model)",
      ),
    strategy: z
      .enum(["fallback", "loadbalance"])
      .default("fallback")
      .describe("fallback: targets in order; loadbalance: a weighted pick first, then the rest in order"),
    targets: z.array(targetSchema).min(1),
    retry: retrySchema.optional(),
  })
  .strict();

/** An org's or key's name: for people, and shown in every admin list page it is on (page.ts PAGE_BYTES). */
const displayName = z.string().max(256);

export const orgSchema = z
  .object({
    // `system` names the gateway's own audit chain (key changes, registry changes, failed sign-ins):
    // an org of that name would write its requests into it.
    id: id.regex(/^(?!system$)/, "is reserved for the gateway's own audit chain"),
    name: displayName.min(1).optional(),
    // An empty list would refuse every request with a message naming no region: leave the field out
    // to allow every region, or name at least one.
    allowedRegions: z
      .array(z.string().min(1))
      .min(1)
      // A region named twice is a typo for another region more often than not.
      .refine((regions) => new Set(regions).size === regions.length, "must not name a region twice")
      .meta({ uniqueItems: true })
      .optional()
      .describe("At least one region; absent: every region allowed"),
    budgets: budgetsSchema.optional(),
    rateLimits: rateLimitSchema.optional(),
    sensitive: z
      .boolean()
      .optional()
      .describe("Every request and response of this org is written, redacted, to its audit chain"),
    redactPrompts: z
      .boolean()
      .optional()
      .describe("PII and secrets are masked in prompts before they leave for a provider"),
  })
  .strict();

export const keySchema = z
  .object({
    id,
    org: id,
    role: z.enum(["api", "admin"]).default("api"),
    name: displayName.optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "must be the SHA-256 of the key in lowercase hex (64 characters)"),
    models: z.array(z.string().min(1)).min(1).optional().describe("At least one; absent: every model"),
    budgets: budgetsSchema.optional(),
    rateLimits: rateLimitSchema.optional(),
  })
  .strict();

export const serverSchema = z
  .object({
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .max(10 * 1024 * 1024)
      .default(4 * 1024 * 1024)
      .describe("Request body limit; API Gateway's own payload cap is 10 MB"),
    timeouts: timeoutsSchema.optional().describe("Defaults for every target"),
    alerts: z
      .object({
        webhookUrl: httpUrl()
          .optional()
          .describe("Portable mode: budget.threshold events are POSTed here (and always logged)"),
      })
      .strict()
      .optional(),
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    $schema: z.string().optional(),
    server: serverSchema.default({ maxBodyBytes: 4 * 1024 * 1024 }),
    providers: z.array(providerSchema).default([]),
    models: z.array(modelSchema).default([]),
    orgs: z.array(orgSchema).default([]),
    keys: z.array(keySchema).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const unique = (
      items: Array<{ id?: string; alias?: string; sha256?: string }>,
      section: string,
      field: "id" | "alias" | "sha256",
    ) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const value = item[field] ?? "";
        if (seen.has(value))
          ctx.addIssue({
            code: "custom",
            path: [section, i, field],
            message: `duplicate ${field} '${value}'`,
          });
        seen.add(value);
      });
    };
    unique(cfg.providers, "providers", "id");
    unique(cfg.models, "models", "alias");
    unique(cfg.orgs, "orgs", "id");
    unique(cfg.keys, "keys", "id");
    // One secret, one key: the store refuses a second key with the same hash.
    unique(cfg.keys, "keys", "sha256");
    const providers = new Set(cfg.providers.map((p) => p.id));
    cfg.models.forEach((m, i) => {
      m.targets.forEach((t, j) => {
        if (!providers.has(t.provider))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "targets", j, "provider"],
            message: `unknown provider '${t.provider}'`,
          });
      });
    });
    const orgs = new Set(cfg.orgs.map((o) => o.id));
    cfg.keys.forEach((k, i) => {
      if (!orgs.has(k.org))
        ctx.addIssue({ code: "custom", path: ["keys", i, "org"], message: `unknown org '${k.org}'` });
    });
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type OrgConfig = z.infer<typeof orgSchema>;
export type KeyConfig = z.infer<typeof keySchema>;
export type Timeouts = z.infer<typeof timeoutsSchema>;
export type BudgetConfig = z.infer<typeof budgetSchema>;
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;
export type PriceConfig = z.infer<typeof priceSchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;
