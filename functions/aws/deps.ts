import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AuditQueue } from "../../core/audit/port.ts";
import { createDynamoBudgetStore } from "../../core/budgets/dynamo-store.ts";
import { createDynamoSpendStore } from "../../core/budgets/spend-dynamo-store.ts";
import type { EventPublisher } from "../../core/events/port.ts";
import type { GatewayDeps, RequestOutcome } from "../../core/gateway/types.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import type { Log } from "../../core/log.ts";
import { createDynamoRateLimitStore } from "../../core/ratelimit/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { PRIMARY_REGION, SECONDARY_REGION } from "../../stacks/regions.ts";
import { createGatewayDeps } from "../shared/gateway-deps.ts";

export interface AwsDepsOptions {
  doc: DynamoDBDocumentClient;
  tables: { registry: string; keys: string; budgets: string };
  /** Usage events: EventBridge in AWS. */
  events: EventPublisher;
  /** Audit records: the SQS FIFO queue. */
  audit: AuditQueue;
  /** Provider keys and base-URL overrides by the names the registry uses. */
  env: Record<string, string | undefined>;
  log: Log;
  maxBodyBytes: number;
  /** The AWS region this container runs in: names its budget counter items. */
  region: string;
  onOutcome?: ((outcome: RequestOutcome) => void) | undefined;
}

/**
 * The Lambda's wiring: DynamoDB stores behind the same ports as portable mode. Built once per container
 * (module scope of the entry point) and reused by every invocation; the registry is seeded separately
 * (`npm run seed:aws`), never at cold start.
 */
export function buildAwsDeps(opts: AwsDepsOptions): GatewayDeps {
  const periodTotals = createDynamoSpendStore(opts.doc, opts.tables.budgets);
  return createGatewayDeps({
    registry: createDynamoRegistryStore(opts.doc, opts.tables.registry),
    keys: createDynamoKeyStore(opts.doc, opts.tables.keys),
    env: opts.env,
    region: opts.region,
    // Budget counters and rate-limit windows share the budgets table (distinct key prefixes).
    // A budget's first reservation in a period starts from the cost aggregator's total for it.
    budgets: createDynamoBudgetStore(
      opts.doc,
      opts.tables.budgets,
      opts.region,
      (c) => periodTotals.periodSpend(c.scope, c.id, c.periodKey),
      // The regions the budgets table replicates to (stacks/regions.ts): each checks the other's items.
      [PRIMARY_REGION, SECONDARY_REGION].filter((r) => r !== opts.region),
    ),
    rateLimits: createDynamoRateLimitStore(opts.doc, opts.tables.budgets),
    events: opts.events,
    audit: opts.audit,
    maxBodyBytes: opts.maxBodyBytes,
    log: opts.log,
    onOutcome: opts.onOutcome,
  }).deps;
}
