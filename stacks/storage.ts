/**
 * DynamoDB tables. Configuration and counters (registry, keys, budgets) are global tables so both regions
 * read the same data; audit records stay in the region that served the request (DESIGN §7).
 *
 * Global tables and one stage per region: a replica is part of its table's definition, and only one
 * stage can own that definition. The primary stage (us-east-1) creates each table WITH its eu-west-1
 * replica; the secondary stage (eu-west-1) references the replica by its deterministic name through
 * `Dynamo.get` and never creates or deletes it. Hence: deploy the primary first, remove it last.
 */
import { type Deployment, globalTableName } from "./regions.ts";

export const GLOBAL_TABLES = ["RegistryTable", "KeysTable", "BudgetsTable"] as const;
export type GlobalTable = (typeof GLOBAL_TABLES)[number];

export interface Storage {
  readonly registry: sst.aws.Dynamo;
  readonly keys: sst.aws.Dynamo;
  readonly budgets: sst.aws.Dynamo;
  /** Regional: one per stage, never replicated. */
  readonly audit: sst.aws.Dynamo;
}

// Every table is a single-table design on a generic composite key (`pk`, `sk`), e.g.
// pk=ORG#id, sk=SPEND#2026-11#eu-west-1 (DESIGN §5).
const KEY_SCHEMA = {
  fields: { pk: "string", sk: "string" },
  primaryIndex: { hashKey: "pk", rangeKey: "sk" },
} as const;

/**
 * The budgets table's sparse index of reservations still open, which the reservation sweep reads
 * (core/budgets/dynamo-counters-store.ts OPEN_INDEX, the same names: stacks must not import runtime
 * code). Only open reservations carry its keys, so it stays as small as the requests in flight.
 */
const OPEN_RESERVATIONS = {
  fields: { ...KEY_SCHEMA.fields, openShard: "string", openAt: "number" },
  primaryIndex: KEY_SCHEMA.primaryIndex,
  globalIndexes: { OpenReservations: { hashKey: "openShard", rangeKey: "openAt" } },
} as const;

interface TableOptions {
  /** The attribute DynamoDB TTL reads (epoch seconds). */
  ttl?: string;
  schema?: typeof KEY_SCHEMA | typeof OPEN_RESERVATIONS;
}

function globalTable(
  deployment: Deployment,
  logical: GlobalTable,
  options: TableOptions = {},
): sst.aws.Dynamo {
  const name = globalTableName($app.name, deployment.env, logical);
  if (deployment.role === "secondary") return sst.aws.Dynamo.get(logical, name);

  const { ttl, schema = KEY_SCHEMA } = options;
  return new sst.aws.Dynamo(logical, {
    ...schema,
    // Global tables (version 2019.11.21) replicate through the table's stream, which must carry
    // NEW_AND_OLD_IMAGES.
    stream: "new-and-old-images",
    deletionProtection: deployment.protected,
    ...(ttl ? { ttl } : {}),
    transform: {
      table: (args) => {
        args.name = name;
        args.pointInTimeRecovery = { enabled: true };
        args.replicas = [
          {
            regionName: deployment.peerRegion,
            pointInTimeRecovery: true,
            propagateTags: true,
            deletionProtectionEnabled: deployment.protected,
          },
        ];
      },
    },
  });
}

export function createStorage(deployment: Deployment): Storage {
  return {
    registry: globalTable(deployment, "RegistryTable"),
    keys: globalTable(deployment, "KeysTable"),
    // Reservations, rate-limit windows and usage dedupe markers expire through `expiresAt` (DynamoDB TTL).
    budgets: globalTable(deployment, "BudgetsTable", { ttl: "expiresAt", schema: OPEN_RESERVATIONS }),
    // Name left to SST (app-stage-AuditTable-<random>): each regional stage owns its own copy.
    audit: new sst.aws.Dynamo("AuditTable", {
      ...KEY_SCHEMA,
      deletionProtection: deployment.protected,
      transform: { table: { pointInTimeRecovery: { enabled: true } } },
    }),
  };
}
