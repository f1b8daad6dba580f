/**
 * Least-privilege grants. SST's default links grant `dynamodb:*`, `sqs:*` and `events:*` on the linked
 * resource (which includes DeleteTable, DeleteQueue, DeleteEventBus, ...). Here links only carry names and
 * ARNs to `Resource.*` at run time; each function states the actions it needs on the exact ARNs it uses.
 */
import { PRIMARY_REGION } from "./regions.ts";

export interface Grant {
  actions: string[];
  resources: $util.Input<string>[];
}

// TransactWriteItems/TransactGetItems are authorised as their per-item actions (Put/Update/Delete/
// ConditionCheckItem, GetItem), so they need no action of their own.
const DYNAMO_READ = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
];
const DYNAMO_WRITE = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
];

function tableResources(table: sst.aws.Dynamo): $util.Input<string>[] {
  return [table.arn, $interpolate`${table.arn}/index/*`];
}

export function dynamoRead(table: sst.aws.Dynamo): Grant {
  return { actions: DYNAMO_READ, resources: tableResources(table) };
}

/** Single-item reads and queries (of the table and its indexes): no scans, no batches. */
export function dynamoLookup(table: sst.aws.Dynamo): Grant {
  return { actions: ["dynamodb:GetItem", "dynamodb:Query"], resources: tableResources(table) };
}

export function dynamoReadWrite(table: sst.aws.Dynamo): Grant {
  return { actions: [...DYNAMO_READ, ...DYNAMO_WRITE], resources: tableResources(table) };
}

/**
 * Threshold claims (conditional put, update and delete, consistent get) on the primary region's replica
 * of a global table, from whichever region the function runs in: claims are taken in one replica so a
 * line both regions cross during replication lag fires once (core/budgets/spend-dynamo-store.ts).
 */
export function dynamoClaimsInPrimary(table: sst.aws.Dynamo): Grant {
  return {
    actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    resources: [
      table.arn.apply((arn) => arn.replace(/^(arn:[^:]+:dynamodb:)[^:]+:/, `$1${PRIMARY_REGION}:`)),
    ],
  };
}

export function putEvents(bus: sst.aws.Bus): Grant {
  return { actions: ["events:PutEvents"], resources: [bus.arn] };
}

/** Producers of audit records; consuming is granted by `Queue.subscribe` on the queue ARN only. */
export function sendMessages(queue: sst.aws.Queue): Grant {
  return { actions: ["sqs:SendMessage", "sqs:GetQueueUrl"], resources: [queue.arn] };
}

/** Replace SST's broad link permissions with properties-only links (called once per program run). */
export function restrictLinks(): void {
  sst.Linkable.wrap(sst.aws.Dynamo, (table) => ({ properties: { name: table.name, arn: table.arn } }));
  sst.Linkable.wrap(sst.aws.Queue, (queue) => ({ properties: { url: queue.url, arn: queue.arn } }));
  sst.Linkable.wrap(sst.aws.Bus, (bus) => ({ properties: { name: bus.name, arn: bus.arn } }));
}

/**
 * A resource policy letting EventBridge deliver to a queue or topic for one rule only. The service
 * principal acts for every rule of every account, so the rule's ARN is the condition (a confused deputy
 * could otherwise route its events here).
 */
export function deliveryFromRule(
  action: string,
  resource: $util.Input<string>,
  ruleArn: $util.Input<string>,
): $util.Output<string> {
  return aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        actions: [action],
        resources: [resource],
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        conditions: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [ruleArn] }],
      },
    ],
  }).json;
}
